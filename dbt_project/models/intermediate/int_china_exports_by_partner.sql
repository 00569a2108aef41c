-- China's exports to the US, Vietnam, Mexico and Hong Kong as China publishes them, one row per level, code,
-- partner and month: UN Comtrade's HS6 basket lines and HS2 chapters (in the months Comtrade has published: a code
-- missing from a published month is zero, a month not published yet is missing), and GACC's country totals (its
-- combined January-February split evenly between the two months, so three-month windows compare like with like).
-- Each over the rerouting monitor's windows, as int_us_imports_by_origin.
{{ config(materialized='table') }}

with

comtrade as (

    select hs_level, hs_code, partner_iso3, period_month, value_usd
    from {{ ref('stg_comtrade__cn_trade') }}
    where flow = 'export'
        and hs_level in ('HS2', 'HS6')
        and partner_iso3 in ('USA', 'VNM', 'MEX', 'HKG')

),

comtrade_months as (

    select period_month, bool_or(is_synthetic) as is_synthetic
    from {{ ref('stg_comtrade__cn_trade') }}
    group by period_month

),

comtrade_codes as (

    select distinct hs_level, hs_code from comtrade

),

comtrade_partners as (

    select * from (values ('USA'), ('VNM'), ('MEX'), ('HKG')) as partners (partner_iso3)

),

comtrade_dense as (

    {{ zero_filled('comtrade', 'comtrade_codes', 'comtrade_months', 'comtrade_partners') }}

),

gacc_periods as (

    select
        partner_iso3,
        period_month,
        exports_usd / months_in_period as value_usd,
        is_synthetic,
        unnest(range(months_in_period)) as month_offset
    from {{ ref('stg_gacc__trade_by_country') }}
    where partner_iso3 in ('USA', 'VNM', 'MEX', 'HKG')

),

flows as (

    select 'comtrade' as source, hs_level, hs_code, partner_iso3, period_month,
           cast(value_usd as double) as value_usd, is_synthetic
    from comtrade_dense
    union all
    select 'gacc', 'TOTAL', 'TOTAL', partner_iso3, cast(period_month + to_months(month_offset) as date),
           cast(value_usd as double), is_synthetic
    from gacc_periods

),

windowed as (

    select
        *,
        {{ three_month_sum('value_usd', 'hs_level, hs_code, partner_iso3') }} as value_3m_usd
    from flows

),

base_year as (

    select hs_level, hs_code, partner_iso3, sum(value_usd) / 4 as value_base_3m_usd
    from flows
    where year(period_month) = {{ var('diversion_base_year') }}
    group by hs_level, hs_code, partner_iso3
    having count(*) = 12

)

select
    windowed.source,
    windowed.hs_level,
    windowed.hs_code,
    windowed.partner_iso3,
    windowed.period_month,
    windowed.value_usd,
    windowed.value_3m_usd,
    year_ago.value_3m_usd as value_year_ago_3m_usd,
    base_year.value_base_3m_usd,
    windowed.is_synthetic

from windowed
left join windowed as year_ago
    on windowed.hs_level = year_ago.hs_level
    and windowed.hs_code = year_ago.hs_code
    and windowed.partner_iso3 = year_ago.partner_iso3
    and year_ago.period_month = cast(windowed.period_month - interval 12 month as date)
left join base_year
    on windowed.hs_level = base_year.hs_level
    and windowed.hs_code = base_year.hs_code
    and windowed.partner_iso3 = base_year.partner_iso3
