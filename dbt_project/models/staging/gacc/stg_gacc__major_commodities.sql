-- China's major exports and imports by quantity and value (tables 5 and 6, USD edition), latest visible vintage of
-- each period, in US dollars (value x value_multiplier). Labels change between years ("Rare earth" in 2025,
-- "Rare-earth ore, metals, compounds" in 2026): the seed gacc_commodity_labels gives each a stable commodity_code
-- (null for a label it does not know yet). Quantities are kept as published and, where the seed
-- gacc_quantity_units knows the unit, in base units (KG, NO, PRS, M3). A January row covers January and February.
with

releases as (

    {{ visible_releases('gacc_major_commodities') }}

),

lines as (

    select * from {{ source('gacc', 'gacc_major_commodities') }}
    where edition = 'USD'

),

labels as (

    select lower(gacc_label) as label_key, flow, commodity_code, is_aggregate
    from {{ ref('gacc_commodity_labels') }}

),

units as (

    select * from {{ ref('gacc_quantity_units') }}

)

select
    lines.period as period_month,
    lines.months_in_period,
    lines.flow,
    lines.line_number,
    lines.commodity as commodity_label,
    labels.commodity_code,
    coalesce(labels.is_aggregate, false) as is_aggregate,
    lines.quantity_unit as published_quantity_unit,
    lines.quantity_month as published_quantity,
    lines.quantity_ytd as published_quantity_ytd,
    units.quantity_unit,
    lines.quantity_month * units.factor as quantity,
    lines.quantity_ytd * units.factor as quantity_ytd,
    cast(round(lines.value_month * lines.value_multiplier) as bigint) as value_usd,
    cast(round(lines.value_ytd * lines.value_multiplier) as bigint) as value_ytd_usd,
    cast(round(lines.value_ytd_prior_year * lines.value_multiplier) as bigint) as value_ytd_prior_year_usd,
    lines.quantity_ytd_yoy_pct as published_quantity_ytd_yoy_pct,
    lines.value_ytd_yoy_pct as published_value_ytd_yoy_pct,
    lines.unit as published_unit,
    lines.release_id,
    releases.vintage,
    releases.synthetic as is_synthetic

from lines
inner join releases on lines.release_id = releases.release_id
left join labels on lower(lines.commodity) = labels.label_key and lines.flow = labels.flow
left join units on lines.quantity_unit = units.published_unit
