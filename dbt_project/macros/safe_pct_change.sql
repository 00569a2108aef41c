{#- Percent change from `previous` to `current`; null when there is no previous value or it is zero. -#}
{% macro safe_pct_change(current, previous) -%}
    case when {{ previous }} is null or {{ previous }} = 0 then null
         else round(100.0 * ({{ current }} - {{ previous }}) / {{ previous }}, 4) end
{%- endmacro %}
