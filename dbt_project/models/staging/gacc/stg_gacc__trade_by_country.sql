-- China-reported trade by partner, latest visible vintage of each period, in US dollars. Only the partners the
-- warehouse follows (and the TOTAL row, as WLD); subtotal rows are dropped. A January row covers January and
-- February (months_in_period = 2): GACC publishes them together.
with

releases as (

    {{ visible_releases('gacc_trade_by_country') }}

),

country_table as (

    select * from {{ source('gacc', 'gacc_trade_by_country') }}

)

select
    country_table.period as period_month,
    country_table.months_in_period,
    country_table.partner_iso3,
    country_table.region as partner_label,
    country_table.exports_month * 1000 as exports_usd,
    country_table.imports_month * 1000 as imports_usd,
    country_table.exports_ytd * 1000 as exports_ytd_usd,
    country_table.imports_ytd * 1000 as imports_ytd_usd,
    country_table.pct_change_exports as published_exports_yoy_pct,
    country_table.pct_change_imports as published_imports_yoy_pct,
    country_table.release_id,
    releases.vintage,
    releases.synthetic as is_synthetic

from country_table
inner join releases on country_table.release_id = releases.release_id
where country_table.partner_iso3 is not null and not country_table.is_subtotal
