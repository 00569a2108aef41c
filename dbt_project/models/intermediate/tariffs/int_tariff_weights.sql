{{ config(materialized='table') }}
-- The one place where tariff lines get their trade weights, for both weightings:
--   fixed_base_year: from each date in var('tariff_fixed_weight_years'), the imports of one base year (2017 for the
--                    2018-2024 dates, 2024 from 2025);
--   previous_year:   each calendar year weighted by the year before.
-- A requested year that cannot be weighted is replaced by the nearest earlier year that can (else the nearest later
-- one); weight_year says which year was used. Line values (the warehouse's before the reference's) are used as they
-- are, China's HS8 values split evenly over their HS10 lines. A year with chapter totals only is bridged: its chapter
-- totals spread over each chapter's lines in the proportions of the nearest year with line values. The US 2017
-- bridge, whose 2024 proportions understate the lines tariffed since 2018, is then raked (iterative proportional
-- fitting over the chapter totals and the lists) to the trade values announced for the Section 301 lists named in
-- var('tariff_2017_list_anchors'), and serves as the line-level year for the other bridged years near it.
-- Only published, non-synthetic warehouse data and the reference seeds weight (int_tariff_weight_sources).
{% set anchors = var('tariff_2017_list_anchors') %}
{% set anchor_year = var('tariff_fixed_weight_years')[0]['year'] %}
with

sources as (

    select * from {{ ref('int_tariff_weight_sources') }}
    where value_usd > 0

),

lines as (

    select * from {{ ref('int_tariff_lines') }}

),

-- the best source of a side, year and level (warehouse before reference)
best as (

    select * from sources
    qualify source_rank = min(source_rank) over (partition by side, year, level)

),

direct_values as (

    -- a value given for a code with finer tariff lines below it (China's HS8) is split evenly over them
    select
        b.side,
        b.year,
        b.source,
        coalesce(l.tariff_line, b.code) as tariff_line,
        b.value_usd / count(*) over (partition by b.side, b.year, b.code) as value_usd
    from best as b
    left join lines as l
        on l.imposing_side = b.side
        and left(l.tariff_line, 8) = b.code
        and length(l.tariff_line) > length(b.code)
    where b.level = 'line'

),

direct_years as (

    select distinct side, year, source from direct_values

),

chapter_totals as (

    select side, year, code as hs_chapter, value_usd, source from best where level = 'chapter'

),

-- the year with line values nearest to a bridged year (the later one on a tie)
nearest_direct as (

    {{ nearest_candidate_year('(select distinct side, year from chapter_totals)', 'direct_years') }}

),

direct_shares as (

    {{ chapter_shares('direct_values') }}

),

-- the anchored year: bridged from the nearest line year, then raked to the announced values of the anchor lists
anchor_bridge as (

    select
        t.side, t.year, s.tariff_line, t.hs_chapter, t.value_usd * s.chapter_share as value_usd,
        'bridged and raked: ' || t.source || ', spread over the lines of each chapter as in ' || n.base_year
            || ', raked to the announced values of {{ anchors | join(", ") }}' as source
    from chapter_totals as t
    inner join nearest_direct as n on n.side = t.side and n.year = t.year
    inner join direct_shares as s on s.side = t.side and s.year = n.base_year and s.hs_chapter = t.hs_chapter
    where t.year = {{ anchor_year }} and t.side = 'US'

),

{% if anchors %}
anchor_groups as (

    -- each line to the first of the anchor lists that covers it
    select tariff_line, arg_min(event_id, valid_from) as anchor_group
    from {{ ref('int_tariff_line_events') }}
    where imposing_side = 'US' and event_id in ({% for a in anchors %}'{{ a }}'{% if not loop.last %}, {% endif %}{% endfor %})
    group by tariff_line

),

anchor_targets as (

    select event_id as anchor_group, coverage_value_usd_bn * 1e9 as target
    from {{ ref('tariff_measures') }}
    where event_id in ({% for a in anchors %}'{{ a }}'{% if not loop.last %}, {% endif %}{% endfor %})
    union all
    select 'unlisted', (select sum(value_usd) from anchor_bridge)
        - (select sum(coverage_value_usd_bn) * 1e9 from {{ ref('tariff_measures') }}
           where event_id in ({% for a in anchors %}'{{ a }}'{% if not loop.last %}, {% endif %}{% endfor %}))

),

rake_0 as (

    select b.side, b.year, b.tariff_line, b.hs_chapter, b.source, coalesce(g.anchor_group, 'unlisted') as anchor_group,
           b.value_usd
    from anchor_bridge as b
    left join anchor_groups as g on g.tariff_line = b.tariff_line

),

chapter_targets as (

    select hs_chapter, sum(value_usd) as target from anchor_bridge group by all

),

{% for i in range(12) %}
rake_{{ i + 1 }} as (

    -- one round of iterative proportional fitting: to the lists' values, then back to the chapter totals
    select r.* replace (r.value_usd * c.target / sum(r.value_usd) over (partition by r.hs_chapter) as value_usd)
    from (
        select r.* replace (r.value_usd * t.target / sum(r.value_usd) over (partition by r.anchor_group) as value_usd)
        from rake_{{ i }} as r
        inner join anchor_targets as t on t.anchor_group = r.anchor_group
    ) as r
    inner join chapter_targets as c on c.hs_chapter = r.hs_chapter

),
{% endfor %}

anchor_values as (

    select side, year, source, tariff_line, value_usd from rake_12

),
{% else %}
anchor_values as (

    select side, year, replace(source, 'bridged and raked', 'bridged') as source, tariff_line, value_usd
    from anchor_bridge

),
{% endif %}

line_values as (

    select side, year, source, tariff_line, value_usd from direct_values
    union all
    select side, year, source, tariff_line, value_usd from anchor_values

),

line_years as (

    select distinct side, year, source from line_values

),

line_shares as (

    {{ chapter_shares('line_values') }}

),

available as (

    select side, year from line_years
    union
    select side, year from chapter_totals

),

sides as (

    select * from (values ('US'), ('CN')) as s (side)

),

fixed_periods as (

    {% set steps = var('tariff_fixed_weight_years') %}
    {% for step in steps %}
    select
        side,
        'fixed_base_year' as weighting,
        date '{{ step["from"] }}' as valid_from,
        {% if not loop.last %}cast(date '{{ steps[loop.index]["from"] }}' - interval 1 day as date){% else %}cast(null as date){% endif %}
            as valid_until,
        {{ step["year"] }} as requested_year
    from sides
    {% if not loop.last %}union all{% endif %}
    {% endfor %}

),

last_year as (

    select max(year(date_effective)) + 1 as year from {{ ref('tariff_measures') }}

),

previous_periods as (

    select
        side,
        'previous_year' as weighting,
        make_date(cast(y as integer), 1, 1) as valid_from,
        make_date(cast(y as integer), 12, 31) as valid_until,
        cast(y as integer) - 1 as requested_year
    from sides
    cross join last_year
    cross join range(year(date '{{ steps[0]["from"] }}'), last_year.year + 1) as r (y)

),

periods as (

    select * from fixed_periods
    union all
    select * from previous_periods

),

resolved as (

    select
        p.*,
        coalesce(max(a.year) filter (where a.year <= p.requested_year),
                 min(a.year) filter (where a.year > p.requested_year)) as weight_year
    from periods as p
    left join available as a on a.side = p.side
    group by all

),

bridge_base as (

    -- for a year without line values, the nearest year with them
    select side, year as weight_year, base_year, base_source
    from ({{ nearest_candidate_year('(select distinct side, weight_year as year from resolved)', 'line_years') }})

),

direct as (

    select r.side, r.weighting, r.valid_from, r.valid_until, r.requested_year, r.weight_year,
           v.source as weight_source, v.tariff_line, v.value_usd
    from resolved as r
    inner join line_values as v on v.side = r.side and v.year = r.weight_year

),

bridged as (

    select r.side, r.weighting, r.valid_from, r.valid_until, r.requested_year, r.weight_year,
           'bridged: ' || t.source || ', spread over the lines of each chapter as in ' || b.base_year || ' ('
               || b.base_source || ')' as weight_source,
           s.tariff_line, t.value_usd * s.chapter_share as value_usd
    from resolved as r
    inner join bridge_base as b on b.side = r.side and b.weight_year = r.weight_year
    inner join chapter_totals as t on t.side = r.side and t.year = r.weight_year
    inner join line_shares as s on s.side = r.side and s.year = b.base_year and s.hs_chapter = t.hs_chapter

)

select
    side as imposing_side,
    weighting,
    valid_from,
    valid_until,
    cast(requested_year as integer) as requested_year,
    cast(weight_year as integer) as weight_year,
    weight_source,
    tariff_line,
    value_usd
from direct
union all
select
    side, weighting, valid_from, valid_until, cast(requested_year as integer), cast(weight_year as integer),
    weight_source, tariff_line, value_usd
from bridged
