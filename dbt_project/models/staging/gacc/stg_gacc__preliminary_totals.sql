-- China's flash totals (exports, imports, total, balance) in US dollars (the USD edition, published in "USD 100
-- Million": value x value_multiplier), latest visible vintage of each period. A January row covers January and
-- February (months_in_period = 2).
with

releases as (

    {{ visible_releases('gacc_preliminary') }}

),

preliminary as (

    select * from {{ source('gacc', 'gacc_preliminary') }}
    where edition = 'USD'

)

select
    preliminary.period as period_month,
    preliminary.months_in_period,
    preliminary.item,
    preliminary.value_month * preliminary.value_multiplier as value_usd,
    preliminary.value_ytd * preliminary.value_multiplier as value_ytd_usd,
    preliminary.mom_pct as published_mom_pct,
    preliminary.yoy_pct as published_yoy_pct,
    preliminary.release_id,
    releases.vintage,
    releases.synthetic as is_synthetic

from preliminary
inner join releases on preliminary.release_id = releases.release_id
