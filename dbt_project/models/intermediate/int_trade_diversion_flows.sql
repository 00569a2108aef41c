-- The flows the rerouting monitor compares, month by month on one long grain (side x HS level x code x partner):
--  * us_imports: US imports by country of origin (Census general imports) from China, Vietnam, Mexico, Hong Kong and
--    the world at HS2, HS4 and HS6, every code every month (a code missing from a month is zero: Census omits empty
--    cells), and the rest of the world (ROW) = the world minus the four;
--  * cn_exports: China's exports to the US, Vietnam, Mexico and Hong Kong as China publishes them: UN Comtrade's
--    HS6 basket lines and HS2 chapters (zero where Comtrade published the month without that code; missing where it
--    has not published the month yet), and GACC's country totals (its combined January-February split evenly into
--    the two months, so three-month windows stay comparable).
with

us_lines as (

    select hs_level, hs_code, partner_iso3, period_month, value_usd, is_synthetic
    from {{ ref('int_us_trade_lines_unioned') }}
    where flow = 'import'
        and hs_level in ('HS2', 'HS4', 'HS6')
        and partner_iso3 in ('CHN', 'VNM', 'MEX', 'HKG', 'WLD')

),

us_codes as (

    select distinct hs_level, hs_code from us_lines where partner_iso3 = 'WLD'

),

us_months as (

    select period_month, bool_or(is_synthetic) as is_synthetic
    from us_lines
    where partner_iso3 = 'WLD'
    group by period_month

),

us_partners as (

    select * from (values ('CHN'), ('VNM'), ('MEX'), ('HKG'), ('WLD')) as partners (partner_iso3)

),

us_dense as (

    {{ zero_filled('us_lines', 'us_codes', 'us_months', 'us_partners') }}

),

us_rest_of_world as (

    select
        hs_level,
        hs_code,
        'ROW' as partner_iso3,
        period_month,
        sum(case when partner_iso3 = 'WLD' then value_usd else -value_usd end) as value_usd,
        bool_or(is_synthetic) as is_synthetic
    from us_dense
    group by hs_level, hs_code, period_month

),

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

gacc as (

    select
        'TOTAL' as hs_level,
        'TOTAL' as hs_code,
        partner_iso3,
        cast(period_month + to_months(month_offset) as date) as period_month,
        value_usd,
        is_synthetic
    from gacc_periods

)

select 'us_imports' as side, 'census' as source, hs_level, hs_code, partner_iso3, period_month,
       cast(value_usd as double) as value_usd, is_synthetic
from us_dense
union all
select 'us_imports', 'census', hs_level, hs_code, partner_iso3, period_month, cast(value_usd as double),
       is_synthetic
from us_rest_of_world
union all
select 'cn_exports', 'comtrade', hs_level, hs_code, partner_iso3, period_month, cast(value_usd as double),
       is_synthetic
from comtrade_dense
union all
select 'cn_exports', 'gacc', hs_level, hs_code, partner_iso3, period_month, cast(value_usd as double),
       is_synthetic
from gacc
