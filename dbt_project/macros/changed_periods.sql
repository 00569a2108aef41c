{#- The incremental refresh: true for the rows of the periods the running build rebuilds.

    tradewatch (tradewatch.transform.build) records each build in audit.builds before running dbt: an incremental
    build carries the months whose releases were published since the last successful build, and an incremental
    model then deletes and re-inserts exactly those months. The periods are data, not vars, so dbt's partial parsing
    survives from one run to the next. On a first build, a --full-refresh, or a `dbt build` by hand (no incremental
    build running), every period is (re)built. -#}
{% macro in_changed_periods(column) -%}
    {%- if is_incremental() -%}
        {%- set running -%}
            (select periods from {{ source('audit', 'builds') }}
             where finished_at is null and mode = 'incremental'
                 and started_at = (select max(started_at) from {{ source('audit', 'builds') }}))
        {%- endset -%}
        (not exists {{ running }}
         or {{ column }} in (select cast(period || '-01' as date) from (select unnest(periods) as period from {{ running }})))
    {%- else -%}
        true
    {%- endif -%}
{%- endmacro %}
