-- NBS CPI and PPI by month (same month of the previous year = 100), from the newest visible release that
-- contains the month. CPI segments of different five-year bases are one series here: NBS publishes the YoY
-- index, which the rebase does not change.
with

releases as (

    {{ visible_releases('nbs_price_indexes', latest_per_period=false) }}

),

indexes as (

    select * from {{ source('nbs', 'nbs_price_indexes') }}

)

select
    indexes.period as period_month,
    'NBS:' || indexes.series_code as source_series_id,
    indexes.value as index_value,
    indexes.indicator_id,
    releases.release_period as release_month,
    indexes.release_id,
    releases.synthetic as is_synthetic

from indexes
inner join releases on indexes.release_id = releases.release_id
qualify row_number() over (
    partition by indexes.series_code, indexes.period
    order by releases.release_period desc, releases.vintage desc
) = 1
