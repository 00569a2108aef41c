{#- The sum of `column` over the three months to each row's month, within `partition_by` (the rows must be one a
    month: rows frames are months); null when the three rows are not the three months (a month missing from the
    data), never a partial sum. The rerouting monitor's windows. -#}
{% macro three_month_sum(column, partition_by) -%}
    case
        when min(period_month) over (partition by {{ partition_by }} order by period_month
                                     rows between 2 preceding and current row)
            = cast(period_month - interval 2 month as date)
            then sum({{ column }}) over (partition by {{ partition_by }} order by period_month
                                         rows between 2 preceding and current row)
    end
{%- endmacro %}
