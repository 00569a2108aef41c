{#- The incremental refresh: the periods the running build rebuilds.

    tradewatch (tradewatch.transform.build) records each build in audit.builds before running dbt: an incremental
    build carries the months whose releases were published since the last successful build, as dates (the first day
    of each month: audit.builds.periods is DATE[]). The periods are data, not vars, so dbt's partial parsing
    survives from one run to the next.

    changed_periods_only(column): true for the rows of those months while an incremental build runs, for every row
    otherwise (a full build, a --full-refresh, `dbt build` or `dbt test` by hand). The tests that scan all history
    use it: in an incremental build only the rebuilt months can have changed, and the others passed before.
    in_changed_periods(column): the same inside an incremental model's is_incremental() run, true otherwise. -#}
{% macro changed_periods_only(column) -%}
    {%- set running -%}
        (select periods from {{ source('audit', 'builds') }}
         where finished_at is null and mode = 'incremental'
             and started_at = (select max(started_at) from {{ source('audit', 'builds') }}))
    {%- endset -%}
    (not exists {{ running }}
     or {{ column }} in (select unnest(periods) from {{ running }}))
{%- endmacro %}

{% macro in_changed_periods(column) -%}
    {%- if is_incremental() -%}
        {{ changed_periods_only(column) }}
    {%- else -%}
        true
    {%- endif -%}
{%- endmacro %}
