-- Trade-weighted tariff rates of each side on the other's goods, computed at every date a rate or a weight changes
-- (never per calendar day): the stacked rate of every line (int_tariff_line_states) weighted by its imports
-- (int_tariff_weights), for the whole trade and by HS2 chapter, under both weightings. A row holds from change_date
-- to state_until. Lines without a known MFN base rate are left out (weighted_share_pct says how much is left).
with

states as (

    select * from {{ ref('int_tariff_line_states') }}

),

weights as (

    select * from {{ ref('int_tariff_weights') }}

),

measures as (

    select * from {{ ref('tariff_measures') }}
    where applied and not is_alternative and coalesce(line_list, '') <> ''

),

grid as (

    select distinct s.imposing_side, w.weighting, s.valid_from as change_date
    from states as s
    inner join (select distinct imposing_side, weighting, valid_from from weights) as w
        on w.imposing_side = s.imposing_side and s.valid_from >= w.valid_from
    union
    select distinct imposing_side, weighting, valid_from from weights

),

weighted as (

    select
        g.imposing_side,
        g.weighting,
        g.change_date,
        w.tariff_line,
        left(w.tariff_line, 2) as hs_chapter,
        w.value_usd,
        w.weight_year,
        w.weight_source,
        s.mfn_rate_pct,
        s.additional_rate_pct,
        s.total_rate_pct
    from grid as g
    inner join weights as w
        on w.imposing_side = g.imposing_side
        and w.weighting = g.weighting
        and g.change_date >= w.valid_from
        and (w.valid_until is null or g.change_date <= w.valid_until)
    left join states as s
        on s.imposing_side = w.imposing_side
        and s.tariff_line = w.tariff_line
        and g.change_date >= s.valid_from
        and (s.valid_until is null or g.change_date <= s.valid_until)

),

aggregated as (

    select
        imposing_side,
        weighting,
        change_date,
        case when grouping(hs_chapter) = 1 then 'TOTAL' else 'HS2' end as hs_level,
        coalesce(hs_chapter, 'TOTAL') as hs_code,
        sum(value_usd * additional_rate_pct) filter (where mfn_rate_pct is not null)
            / sum(value_usd) filter (where mfn_rate_pct is not null) as additional_rate_pct,
        sum(value_usd * total_rate_pct) filter (where mfn_rate_pct is not null)
            / sum(value_usd) filter (where mfn_rate_pct is not null) as total_rate_pct,
        sum(value_usd * mfn_rate_pct) filter (where mfn_rate_pct is not null)
            / sum(value_usd) filter (where mfn_rate_pct is not null) as mfn_rate_pct,
        100.0 * sum(value_usd) filter (where mfn_rate_pct is not null and additional_rate_pct > 0)
            / sum(value_usd) filter (where mfn_rate_pct is not null) as covered_share_pct,
        sum(value_usd) filter (where mfn_rate_pct is not null) as weighted_value_usd,
        100.0 * sum(value_usd) filter (where mfn_rate_pct is not null) / sum(value_usd) as weighted_share_pct,
        count(*) filter (where mfn_rate_pct is not null) as lines_weighted,
        min(weight_year) as weight_year,
        min(weight_source) as weight_source
    from weighted
    group by grouping sets ((imposing_side, weighting, change_date), (imposing_side, weighting, change_date, hs_chapter))

),

events as (

    select side as imposing_side, change_date, string_agg(distinct event_id, ',' order by event_id) as events
    from (
        select side, event_id, date_effective as change_date from measures
        union all
        select side, event_id, cast(date_end + interval 1 day as date) from measures where date_end is not null
    )
    group by all

)

select
    a.imposing_side,
    a.weighting,
    a.hs_level,
    a.hs_code,
    a.change_date,
    cast(lead(a.change_date) over (partition by a.imposing_side, a.weighting, a.hs_level, a.hs_code
                                   order by a.change_date) - interval 1 day as date) as state_until,
    cast(round(a.additional_rate_pct, 4) as double) as additional_rate_pct,
    cast(round(a.total_rate_pct, 4) as double) as total_rate_pct,
    cast(round(a.mfn_rate_pct, 4) as double) as mfn_rate_pct,
    cast(round(a.covered_share_pct, 4) as double) as covered_share_pct,
    cast(a.weight_year as integer) as weight_year,
    a.weight_source,
    cast(round(a.weighted_value_usd) as bigint) as weighted_value_usd,
    cast(round(a.weighted_share_pct, 4) as double) as weighted_share_pct,
    cast(a.lines_weighted as integer) as lines_weighted,
    e.events
from aggregated as a
left join events as e on e.imposing_side = a.imposing_side and e.change_date = a.change_date
