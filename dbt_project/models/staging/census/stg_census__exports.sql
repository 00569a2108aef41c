-- US exports (exports/hs), latest visible vintage of each month (see stg_census__imports).
with

releases as (

    {{ visible_releases('census_exports_hs') }}

),

exports as (

    select * from {{ source('census', 'census_exports_hs') }}

)

select
    exports.period as period_month,
    exports.cty_code as census_country_code,
    exports.cty_name as country_name,
    exports.comm_lvl as hs_level,
    exports.commodity as hs_code,
    exports.commodity_desc as commodity_description,
    exports.all_val_mo as exports_usd,
    exports.qty_1_mo as quantity,
    exports.unit_qy1 as quantity_unit,
    exports.release_id,
    releases.vintage,
    releases.synthetic as is_synthetic

from exports
inner join releases on exports.release_id = releases.release_id
