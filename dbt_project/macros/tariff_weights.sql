{#- Helpers of int_tariff_weight_sources and int_tariff_weights. -#}

{#- Chapter totals of the calendar years a relation covers (nearly) whole: year, hs2, value_usd. -#}
{% macro annual_chapter_totals(relation, value_column, condition, min_months) %}
    select year(period_month) as year, hs_code as hs2, sum({{ value_column }}) as value_usd
    from {{ relation }}
    where {{ condition }}
        and year(period_month) in (
            select year(period_month) from {{ relation }}
            where {{ condition }}
            group by all
            having count(distinct period_month) >= {{ min_months }})
    group by all
{% endmacro %}

{#- For each side and year of `targets` (side, year) that `candidates` (side, year, source) do not have, the
    candidate year nearest to it (the later one on a tie): side, year, base_year, base_source. -#}
{% macro nearest_candidate_year(targets, candidates) %}
    select t.side, t.year, c.year as base_year, c.source as base_source
    from {{ targets }} as t
    inner join {{ candidates }} as c on c.side = t.side
    anti join {{ candidates }} as exact on exact.side = t.side and exact.year = t.year
    qualify row_number() over (partition by t.side, t.year order by abs(c.year - t.year), c.year desc) = 1
{% endmacro %}

{#- Each line's share of its chapter in a relation of line values (side, year, tariff_line, value_usd). -#}
{% macro chapter_shares(relation) %}
    select
        side, year, tariff_line, left(tariff_line, 2) as hs_chapter,
        value_usd / sum(value_usd) over (partition by side, year, left(tariff_line, 2)) as chapter_share
    from {{ relation }}
{% endmacro %}
