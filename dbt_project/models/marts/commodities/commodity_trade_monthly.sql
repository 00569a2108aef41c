-- Commodity baskets by reporter, flow and month, from HS6 lines (a basket code of 4 digits takes every HS6 line
-- below it): the US's trade with China (Census) and China's with the US (Comtrade).
with

baskets as (

    select * from {{ ref('commodity_baskets') }}

),

lines as (

    select * from {{ ref('trade_monthly') }}
    where hs_level = 'HS6'
        and ((reporter_iso3 = 'USA' and partner_iso3 = 'CHN') or (reporter_iso3 = 'CHN' and partner_iso3 = 'USA'))

),

basket_lines as (

    select distinct baskets.basket, lines.*
    from lines
    inner join baskets on starts_with(lines.hs_code, baskets.hs_code)

),

monthly as (

    select
        basket,
        reporter_iso3,
        partner_iso3,
        flow,
        period_month,
        sum(value_usd) as value_usd,
        -- quantities add up only when every line counts in the same unit
        case when count(distinct quantity_unit) = 1 and min(quantity_unit) <> 'X' then sum(quantity) end
            as quantity,
        case when count(distinct quantity_unit) = 1 then min(quantity_unit) end as quantity_unit,
        count(*) as hs6_lines,
        bool_or(is_synthetic) as is_synthetic
    from basket_lines
    group by all

),

bilateral as (

    select reporter_iso3, partner_iso3, flow, period_month, sum(value_usd) as value_usd
    from {{ ref('trade_monthly') }}
    where hs_level = 'HS2'
    group by all

)

select
    monthly.basket,
    monthly.reporter_iso3,
    monthly.partner_iso3,
    monthly.flow,
    monthly.period_month,
    cast(monthly.value_usd as bigint) as value_usd,
    cast(monthly.quantity as bigint) as quantity,
    monthly.quantity_unit,
    cast(monthly.value_usd / nullif(monthly.quantity, 0) as double) as unit_value_usd,
    cast({{ safe_pct_change('monthly.value_usd', 'year_ago.value_usd') }} as double) as yoy_pct,
    cast(round(100.0 * monthly.value_usd / nullif(bilateral.value_usd, 0), 4) as double) as share_of_bilateral_pct,
    cast(monthly.hs6_lines as integer) as hs6_lines,
    monthly.is_synthetic
from monthly
left join monthly as year_ago
    on year_ago.basket = monthly.basket
    and year_ago.reporter_iso3 = monthly.reporter_iso3
    and year_ago.flow = monthly.flow
    and year_ago.period_month = cast(monthly.period_month - interval 12 month as date)
left join bilateral
    on bilateral.reporter_iso3 = monthly.reporter_iso3
    and bilateral.partner_iso3 = monthly.partner_iso3
    and bilateral.flow = monthly.flow
    and bilateral.period_month = monthly.period_month
