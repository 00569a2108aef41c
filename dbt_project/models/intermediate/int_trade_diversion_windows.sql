-- Every flow of int_trade_diversion_flows over the windows the rerouting monitor compares: the three months to each
-- month (one month is too noisy at HS6), the same three months a year earlier, and the pre-war base year (a
-- three-month equivalent: the year's total / 4). A window with a month missing is null, never a partial sum.
-- A table: the mart reads it several times.
{{ config(materialized='table') }}

with

flows as (

    select * from {{ ref('int_trade_diversion_flows') }}

),

windowed as (

    -- every code has a row every month (int_trade_diversion_flows is dense), so rows frames are months; a frame
    -- that reaches across a month missing from the data is caught by its first month and left null
    select
        *,
        sum(value_usd) over three_months as value_3m_usd,
        min(period_month) over three_months as window_start
    from flows
    window three_months as (
        partition by side, hs_level, hs_code, partner_iso3
        order by period_month
        rows between 2 preceding and current row
    )

),

valid as (

    select
        *,
        case when window_start = cast(period_month - interval 2 month as date) then value_3m_usd end as window_usd
    from windowed

),

base_year as (

    select
        side,
        hs_level,
        hs_code,
        partner_iso3,
        sum(value_usd) / 4 as value_base_3m_usd
    from flows
    where year(period_month) = {{ var('diversion_base_year') }}
    group by side, hs_level, hs_code, partner_iso3
    having count(*) = 12

)

select
    valid.side,
    valid.source,
    valid.hs_level,
    valid.hs_code,
    valid.partner_iso3,
    valid.period_month,
    valid.value_usd,
    valid.window_usd as value_3m_usd,
    year_ago.window_usd as value_3m_year_ago_usd,
    base_year.value_base_3m_usd,
    valid.is_synthetic

from valid
left join valid as year_ago
    on valid.side = year_ago.side
    and valid.source = year_ago.source
    and valid.hs_level = year_ago.hs_level
    and valid.hs_code = year_ago.hs_code
    and valid.partner_iso3 = year_ago.partner_iso3
    and year_ago.period_month = cast(valid.period_month - interval 12 month as date)
left join base_year
    on valid.side = base_year.side
    and valid.hs_level = base_year.hs_level
    and valid.hs_code = base_year.hs_code
    and valid.partner_iso3 = base_year.partner_iso3
