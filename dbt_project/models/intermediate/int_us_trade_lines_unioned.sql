-- US-reported trade on the common grain of every publisher:
-- reporter x partner (ISO3) x flow x HS level x HS code x month.
-- Imports use general imports (the headline "imports from" figure); duty and consumption value ride along.
with

countries as (

    select * from {{ ref('country_codes') }}

),

imports as (

    select
        period_month,
        census_country_code,
        'import' as flow,
        hs_level,
        hs_code,
        general_imports_usd as value_usd,
        quantity,
        quantity_unit,
        consumption_imports_usd,
        calculated_duty_usd,
        release_id,
        is_synthetic
    from {{ ref('stg_census__imports') }}

),

exports as (

    select
        period_month,
        census_country_code,
        'export' as flow,
        hs_level,
        hs_code,
        exports_usd as value_usd,
        quantity,
        quantity_unit,
        cast(null as bigint) as consumption_imports_usd,
        cast(null as bigint) as calculated_duty_usd,
        release_id,
        is_synthetic
    from {{ ref('stg_census__exports') }}

),

unioned as (

    select * from imports
    union all
    select * from exports

)

select
    'USA' as reporter_iso3,
    countries.iso3 as partner_iso3,
    unioned.flow,
    unioned.hs_level,
    unioned.hs_code,
    unioned.period_month,
    unioned.value_usd,
    unioned.quantity,
    unioned.quantity_unit,
    unioned.consumption_imports_usd,
    unioned.calculated_duty_usd,
    unioned.release_id,
    unioned.is_synthetic

from unioned
inner join countries on unioned.census_country_code = countries.census_code
