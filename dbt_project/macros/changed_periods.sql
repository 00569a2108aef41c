{#- The incremental refresh: true for the rows of the periods that changed since the last build.

    tradewatch (tradewatch.transform.build) passes the months whose releases were published since the last
    successful build as the var `changed_periods` (["YYYY-MM", ...]); an incremental model then deletes and
    re-inserts exactly those periods. On a first build, a --full-refresh, or a `dbt build` by hand without the var,
    every period is (re)built. -#}
{% macro in_changed_periods(column) -%}
    {%- set periods = var('changed_periods', none) -%}
    {%- if is_incremental() and periods is not none -%}
        {%- for period in periods -%}
            {%- if not modules.re.fullmatch('[0-9]{4}-[0-9]{2}', period | string) -%}
                {{ exceptions.raise_compiler_error("changed_periods holds " ~ period ~ ": expected YYYY-MM") }}
            {%- endif -%}
        {%- endfor -%}
        {{ column }} in (
            {%- for period in periods %}date '{{ period }}-01'{% if not loop.last %}, {% endif %}{% else %}null{% endfor -%}
        )
    {%- else -%}
        true
    {%- endif -%}
{%- endmacro %}
