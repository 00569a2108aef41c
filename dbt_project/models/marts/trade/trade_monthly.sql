-- Every flow at every level, as each reporter reports it: the US (Census: TOTAL, HS2, HS4, HS6) and China (GACC
-- for TOTAL, with January-February as one period; Comtrade for HS2 and the basket HS6 lines).
-- Incremental: the monthly refresh deletes and re-inserts only the periods whose releases changed (the largest
-- mart; every other mart is small and rebuilt whole).
{{ config(
    materialized='incremental',
    incremental_strategy='delete+insert',
    unique_key='period_month',
    on_schema_change='fail',
) }}

with

us as (

    select
        reporter_iso3, partner_iso3, flow, hs_level, hs_code, period_month, 1 as months_in_period,
        value_usd, quantity, quantity_unit, consumption_imports_usd, calculated_duty_usd,
        'census' as source, is_synthetic
    from {{ ref('int_us_trade_lines_unioned') }}
    where {{ in_changed_periods('period_month') }}

),

us_total as (

    select
        reporter_iso3, partner_iso3, flow, 'TOTAL' as hs_level, 'TOTAL' as hs_code, period_month,
        1 as months_in_period, sum(value_usd) as value_usd, cast(null as bigint) as quantity,
        cast(null as varchar) as quantity_unit, sum(consumption_imports_usd) as consumption_imports_usd,
        sum(calculated_duty_usd) as calculated_duty_usd, 'census' as source, bool_or(is_synthetic) as is_synthetic
    from us
    where hs_level = 'HS2'
    group by all

),

cn_total as (

    select
        'CHN' as reporter_iso3, partner_iso3, flow, 'TOTAL' as hs_level, 'TOTAL' as hs_code, period_month,
        months_in_period, value_usd, cast(null as bigint) as quantity, cast(null as varchar) as quantity_unit,
        cast(null as bigint) as consumption_imports_usd, cast(null as bigint) as calculated_duty_usd,
        'gacc' as source, is_synthetic
    from {{ ref('stg_gacc__trade_by_country') }}
    unpivot (value_usd for flow in (exports_usd as 'export', imports_usd as 'import'))
    where {{ in_changed_periods('period_month') }}

),

cn_detail as (

    select
        reporter_iso3, partner_iso3, flow, hs_level, hs_code, period_month, 1 as months_in_period,
        value_usd, cast(qty as bigint) as quantity, nullif(qty_unit, 'N/A') as quantity_unit,
        cast(null as bigint) as consumption_imports_usd, cast(null as bigint) as calculated_duty_usd,
        'comtrade' as source, is_synthetic
    from {{ ref('stg_comtrade__cn_trade') }}
    where hs_level <> 'TOTAL' and {{ in_changed_periods('period_month') }}

),

unioned as (

    select * from us
    union all select * from us_total
    union all select * from cn_total
    union all select * from cn_detail

)

select
    reporter_iso3,
    partner_iso3,
    flow,
    hs_level,
    hs_code,
    period_month,
    months_in_period,
    cast(value_usd as bigint) as value_usd,
    cast(quantity as bigint) as quantity,
    quantity_unit,
    cast(consumption_imports_usd as bigint) as consumption_value_usd,
    cast(calculated_duty_usd as bigint) as calculated_duty_usd,
    source,
    is_synthetic
from unioned
