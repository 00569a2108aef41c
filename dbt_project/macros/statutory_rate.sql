{#- The statutory rate of a group of measures in force: Σ rate x share, and the measures counted. Null, never a
    guess, when a partial measure has no weights (its `total_share` is null: last year is not in the warehouse). -#}
{% macro statutory_rate(share) %}
    case when count(w.measure_id) filter (where w.total_share is null) > 0 then null
         else coalesce(sum(w.rate_after_pct * ({{ share }})), 0) end as statutory_pct,
    string_agg(w.measure_id, ',' order by w.measure_id) as measures
{% endmacro %}
