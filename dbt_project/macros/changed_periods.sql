{#- The incremental refresh: the periods the running build rebuilds.

    tradewatch (tradewatch.transform.build) passes an incremental build the months whose releases were published
    since the last successful build, as the var `changed_periods` (dates, "2025-05-01"; documented in
    dbt_project.yml). Empty, the default, means every month: a full build, a --full-refresh, `dbt build` or
    `dbt test` by hand. tradewatch parses the project without the var and runs the build on that manifest
    (tradewatch.dbt_session), so dbt's partial parsing survives from one run to the next.

    changed_periods_only(column): true for the rows of those months while an incremental build runs, for every row
    otherwise. The tests that scan all history use it: in an incremental build only the rebuilt months can have
    changed, and the others passed before.
    in_changed_periods(column): the same inside an incremental model's is_incremental() run, true otherwise. -#}
{% macro changed_periods_only(column) -%}
    {%- set periods = var('changed_periods', []) -%}
    {%- if periods | length == 0 -%}
        true
    {%- else -%}
        {{ column }} in ({% for period in periods %}date '{{ period }}'{{ ", " if not loop.last }}{% endfor %})
    {%- endif -%}
{%- endmacro %}

{% macro in_changed_periods(column) -%}
    {%- if is_incremental() -%}
        {{ changed_periods_only(column) }}
    {%- else -%}
        true
    {%- endif -%}
{%- endmacro %}
