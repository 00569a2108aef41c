-- US imports (imports/hs), latest visible vintage of each month. Visible = passed its quality suite
-- (published) or released by an operator; pending and quarantined releases never reach this model.
with

releases as (

    {{ visible_releases('census_imports_hs') }}

),

imports as (

    select * from {{ source('census', 'census_imports_hs') }}

)

select
    imports.period as period_month,
    imports.cty_code as census_country_code,
    imports.cty_name as country_name,
    imports.comm_lvl as hs_level,
    imports.commodity as hs_code,
    imports.commodity_desc as commodity_description,
    imports.gen_val_mo as general_imports_usd,
    imports.con_val_mo as consumption_imports_usd,
    imports.dut_val_mo as dutiable_value_usd,
    imports.cal_dut_mo as calculated_duty_usd,
    imports.con_qy1_mo as quantity,
    imports.unit_qy1 as quantity_unit,
    imports.release_id,
    releases.vintage,
    releases.synthetic as is_synthetic

from imports
inner join releases on imports.release_id = releases.release_id
