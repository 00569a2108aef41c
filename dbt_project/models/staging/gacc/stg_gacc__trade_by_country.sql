-- China-reported trade by partner, latest visible vintage of each period, in US dollars (the USD edition, published
-- in "USD1 Million": value x value_multiplier). Every region the label seed maps to a country or the world (the
-- Total row, as WLD); groups (EU, ASEAN ...) and labels the seed does not know stay in raw. A January row covers
-- January and February (months_in_period = 2): GACC publishes them together.
with

releases as (

    {{ visible_releases('gacc_trade_by_country') }}

),

country_table as (

    select * from {{ source('gacc', 'gacc_trade_by_country') }}
    where edition = 'USD'

),

labels as (

    select lower(gacc_label) as label_key, iso3 from {{ ref('gacc_region_labels') }}

)

select
    country_table.period as period_month,
    country_table.months_in_period,
    labels.iso3 as partner_iso3,
    country_table.region as partner_label,
    country_table.parent_region,
    cast(round(country_table.exports_month * country_table.value_multiplier) as bigint) as exports_usd,
    cast(round(country_table.imports_month * country_table.value_multiplier) as bigint) as imports_usd,
    cast(round(country_table.exports_ytd * country_table.value_multiplier) as bigint) as exports_ytd_usd,
    cast(round(country_table.imports_ytd * country_table.value_multiplier) as bigint) as imports_ytd_usd,
    country_table.exports_yoy_pct as published_exports_yoy_pct,
    country_table.imports_yoy_pct as published_imports_yoy_pct,
    country_table.yoy_basis as published_yoy_basis,
    country_table.unit as published_unit,
    country_table.release_id,
    releases.vintage,
    releases.synthetic as is_synthetic

from country_table
inner join releases on country_table.release_id = releases.release_id
inner join labels on lower(country_table.region) = labels.label_key
where labels.iso3 is not null
