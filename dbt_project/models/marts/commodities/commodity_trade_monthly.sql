-- Commodity baskets by reporter, partner, flow and month. From HS6 lines (a basket code of 4 digits takes every HS6
-- line below it): the US's trade with China (Census) and China's with the US (Comtrade). And China's own figure for
-- its trade with every partner (partner WLD) from GACC's major export and import tables, where a GACC line
-- reports the basket (seed gacc_commodity_baskets): weeks before Comtrade, January-February as one period.
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

hs6_monthly as (

    select
        basket,
        reporter_iso3,
        partner_iso3,
        flow,
        period_month,
        1 as months_in_period,
        sum(value_usd) as value_usd,
        -- quantities add up only when every line counts in the same unit
        case when count(distinct quantity_unit) = 1 and min(quantity_unit) <> 'X' then sum(quantity) end
            as quantity,
        case when count(distinct quantity_unit) = 1 then min(quantity_unit) end as quantity_unit,
        count(*) as lines,
        min(source) as source,
        bool_or(is_synthetic) as is_synthetic
    from basket_lines
    group by basket, reporter_iso3, partner_iso3, flow, period_month

),

gacc_monthly as (

    select
        gacc_baskets.basket,
        'CHN' as reporter_iso3,
        'WLD' as partner_iso3,
        gacc.flow,
        gacc.period_month,
        max(gacc.months_in_period) as months_in_period,
        sum(gacc.value_usd) as value_usd,
        case when count(distinct gacc.quantity_unit) = 1 and count(gacc.quantity) = count(*) then sum(gacc.quantity)
        end as quantity,
        case when count(distinct gacc.quantity_unit) = 1 then min(gacc.quantity_unit) end as quantity_unit,
        count(*) as lines,
        'gacc' as source,
        bool_or(gacc.is_synthetic) as is_synthetic
    from {{ ref('stg_gacc__major_commodities') }} as gacc
    inner join {{ ref('gacc_commodity_baskets') }} as gacc_baskets
        on gacc.commodity_code = gacc_baskets.commodity_code and gacc.flow = gacc_baskets.flow
    group by gacc_baskets.basket, gacc.flow, gacc.period_month

),

monthly as (

    select * from hs6_monthly
    union all
    select * from gacc_monthly

),

bilateral as (

    -- the reporter's trade with the partner in that flow: the HS2 chapters (Census, Comtrade), or GACC's total
    select reporter_iso3, partner_iso3, flow, period_month, source, sum(value_usd) as value_usd
    from {{ ref('trade_monthly') }}
    where hs_level = 'HS2' or (hs_level = 'TOTAL' and source = 'gacc')
    group by reporter_iso3, partner_iso3, flow, period_month, source

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
    cast(monthly.lines as integer) as hs6_lines,
    monthly.is_synthetic,
    cast(monthly.months_in_period as integer) as months_in_period,
    monthly.source
from monthly
left join monthly as year_ago
    on year_ago.basket = monthly.basket
    and year_ago.reporter_iso3 = monthly.reporter_iso3
    and year_ago.partner_iso3 = monthly.partner_iso3
    and year_ago.flow = monthly.flow
    and year_ago.period_month = cast(monthly.period_month - interval 12 month as date)
left join bilateral
    on bilateral.reporter_iso3 = monthly.reporter_iso3
    and bilateral.partner_iso3 = monthly.partner_iso3
    and bilateral.flow = monthly.flow
    and bilateral.period_month = monthly.period_month
    and bilateral.source = monthly.source
