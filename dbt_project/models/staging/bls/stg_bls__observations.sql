-- BLS observations: for each series and month, the value from the newest visible release that contains it
-- (a later release carries revisions of preliminary months). Visible = published or released by an operator.
with

releases as (

    {{ visible_releases('bls_series', latest_per_period=false) }}

),

observations as (

    select * from {{ source('bls', 'bls_series') }}

)

select
    observations.period as period_month,
    observations.series_id as source_series_id,
    observations.value as index_value,
    observations.is_preliminary,
    observations.footnote_codes,
    releases.release_period as release_month,
    observations.release_id,
    releases.synthetic as is_synthetic

from observations
inner join releases on observations.release_id = releases.release_id
qualify row_number() over (
    partition by observations.series_id, observations.period
    order by releases.release_period desc, releases.vintage desc
) = 1
