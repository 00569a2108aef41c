{#- The statutory rate of a group of measures in force: Σ rate x share, and the measures counted. Null, never a
    guess, when a partial measure has no weights (its `total_share` is null: last year is not in the warehouse). -#}
{% macro statutory_rate(share) %}
    case when count(w.measure_id) filter (where w.total_share is null) > 0 then null
         else coalesce(sum(w.rate_after_pct * ({{ share }})), 0) end as statutory_pct,
    string_agg(w.measure_id, ',' order by w.measure_id) as measures
{% endmacro %}

{#- The share of last year's imports a measure in force covers (`in_force` rows): 'all' covers everything, an HS
    scope covers `covered` / `total`, a listed measure known only by its value covers value / `total` (at most 1).
    Without `total` (last year not in the warehouse) a partial share is unknown: null, not 1. -#}
{% macro measure_share(covered, total) %}
    case
        when list_contains(in_force.scope_codes, 'all') then 1.0
        when len(in_force.scope_codes) > 0 then {{ covered }} / nullif({{ total }}, 0)
        -- least() skips NULLs in DuckDB, so the missing total is tested first
        when nullif({{ total }}, 0) is null then null
        else least(1.0, in_force.coverage_value_usd_bn * 1e9 / {{ total }})
    end
{% endmacro %}
