-- The chapters' rates, weighted by their trade, give the whole-trade rate (each weighting, side and date).
with

chapters as (

    select
        imposing_side, weighting, change_date,
        sum(additional_rate_pct * weighted_value_usd) / sum(weighted_value_usd) as additional_rate_pct,
        sum(total_rate_pct * weighted_value_usd) / sum(weighted_value_usd) as total_rate_pct,
        sum(weighted_value_usd) as weighted_value_usd
    from {{ ref('tariff_rates_daily') }}
    where hs_level = 'HS2'
    group by all

)

select t.imposing_side, t.weighting, t.change_date, t.additional_rate_pct, c.additional_rate_pct as from_chapters
from {{ ref('tariff_rates_daily') }} as t
left join chapters as c
    on c.imposing_side = t.imposing_side and c.weighting = t.weighting and c.change_date = t.change_date
where t.hs_level = 'TOTAL'
    and (c.change_date is null
         or abs(t.additional_rate_pct - c.additional_rate_pct) > 0.001
         or abs(t.total_rate_pct - c.total_rate_pct) > 0.001
         or abs(t.weighted_value_usd - c.weighted_value_usd) > 1000)
