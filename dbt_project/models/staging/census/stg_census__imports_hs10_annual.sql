-- US imports from China by HS10 statistical line and calendar year: the December release's year-to-date values,
-- latest visible vintage of each year (a June release revising the year is a newer vintage). The weights of the
-- line-level tariff averages.
with

releases as (

    {{ visible_releases('census_imports_hs10_annual') }}

),

countries as (

    select * from {{ ref('country_codes') }}

),

lines as (

    select * from {{ source('census', 'census_imports_hs10_annual') }}

)

select
    cast(year(lines.period) as integer) as year,
    cast(countries.iso3 as varchar) as partner_iso3,
    cast(lines.commodity as varchar) as hs10,
    cast(left(lines.commodity, 8) as varchar) as hs8,
    cast(left(lines.commodity, 6) as varchar) as hs6,
    cast(left(lines.commodity, 2) as varchar) as hs2,
    cast(lines.commodity_desc as varchar) as description,
    cast(lines.con_val_yr as bigint) as consumption_imports_usd,
    cast(lines.gen_val_yr as bigint) as general_imports_usd,
    cast(lines.cal_dut_yr as bigint) as calculated_duty_usd,
    cast(lines.dut_val_yr as bigint) as dutiable_value_usd,
    cast(releases.synthetic as boolean) as is_synthetic,
    cast(lines.release_id as varchar) as release_id

from lines
inner join releases on lines.release_id = releases.release_id
inner join countries on lines.cty_code = countries.census_code
where month(lines.period) = 12  -- year to date through December is the year; the gate admits no other month
