{#- Generic test: no two rows share the same values in `combination_of_columns` (the model's grain).
    With `period_column`, an incremental build tests only the months it rebuilt (macro changed_periods_only).
    Written here because packages from the dbt hub cannot be installed offline. -#}
{% test unique_combination_of_columns(model, combination_of_columns, period_column=none) %}
    select {{ combination_of_columns | join(', ') }}, count(*) as n_rows
    from {{ model }}
    {% if period_column %}where {{ changed_periods_only(period_column) }}{% endif %}
    group by {{ combination_of_columns | join(', ') }}
    having count(*) > 1
{% endtest %}
