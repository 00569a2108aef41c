-- Price indexes by country, series and month, with the change on the same month a year earlier.
with

observations as (

    select * from {{ ref('int_price_observations_unioned') }}

),

series as (

    select * from {{ ref('price_series') }}

),

levels as (

    select
        series.country_iso3,
        series.series_code,
        observations.period_month,
        observations.index_value,
        observations.is_preliminary,
        observations.source_series_id,
        series.series_name,
        series.base_period,
        series.seasonal_adjustment,
        series.value_kind,
        series.source,
        observations.is_synthetic
    from observations
    inner join series on observations.source_series_id = series.source_series_id

)

select
    levels.country_iso3,
    levels.series_code,
    levels.period_month,
    cast(levels.index_value as double) as index_value,
    -- a level: change on the level a year earlier; an NBS-style index (same month last year = 100): value - 100
    cast(case levels.value_kind
        when 'yoy_index' then levels.index_value - 100
        else {{ safe_pct_change('levels.index_value', 'year_ago.index_value') }}
    end as double) as yoy_pct,
    levels.is_preliminary,
    levels.source_series_id,
    levels.series_name,
    levels.base_period,
    levels.seasonal_adjustment,
    levels.value_kind,
    levels.source,
    levels.is_synthetic

from levels
left join levels as year_ago
    on levels.country_iso3 = year_ago.country_iso3
    and levels.series_code = year_ago.series_code
    and year_ago.period_month = cast(levels.period_month - interval 12 month as date)
