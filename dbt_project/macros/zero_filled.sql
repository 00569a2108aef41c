{#- Every code x month x partner of three CTEs, with the value of `lines` where it has one and zero where it has
    not: the publishers omit empty cells, and a three-month window or a share needs every month (the rerouting
    monitor's flows). `months` carries is_synthetic. -#}
{% macro zero_filled(lines, codes, months, partners) %}
    select
        {{ codes }}.hs_level,
        {{ codes }}.hs_code,
        {{ partners }}.partner_iso3,
        {{ months }}.period_month,
        coalesce({{ lines }}.value_usd, 0) as value_usd,
        {{ months }}.is_synthetic
    from {{ codes }}
    cross join {{ months }}
    cross join {{ partners }}
    left join {{ lines }}
        on {{ codes }}.hs_level = {{ lines }}.hs_level
        and {{ codes }}.hs_code = {{ lines }}.hs_code
        and {{ partners }}.partner_iso3 = {{ lines }}.partner_iso3
        and {{ months }}.period_month = {{ lines }}.period_month
{% endmacro %}
