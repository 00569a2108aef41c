-- Every chapter's HS6 lines add up to the chapter's HS2 value (within $1 per chapter of rounding).
with hs6 as (
    select reporter_iso3, partner_iso3, flow, period_month, left(hs_code, 2) as chapter, sum(value_usd) as hs6_usd
    from {{ ref('int_us_trade_lines_unioned') }}
    where hs_level = 'HS6' and {{ changed_periods_only('period_month') }}
    group by all
),

hs2 as (
    select reporter_iso3, partner_iso3, flow, period_month, hs_code as chapter, value_usd as hs2_usd
    from {{ ref('int_us_trade_lines_unioned') }}
    where hs_level = 'HS2' and {{ changed_periods_only('period_month') }}
)

select hs6.*, hs2.hs2_usd
from hs6
inner join hs2 using (reporter_iso3, partner_iso3, flow, period_month, chapter)
where abs(hs6.hs6_usd - hs2.hs2_usd) > 1
