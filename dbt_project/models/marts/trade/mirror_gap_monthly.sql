-- The same trade seen from both ends: what the exporter reports against what the importer reports.
-- CN->US: China's exports to the US (GACC, FOB) vs US imports from China (Census, customs value by origin).
-- US->CN: US exports to China (Census, f.a.s.) vs China's imports from the US (GACC, CIF by origin).
-- GACC's combined January-February is compared with Census January + February.
with

gacc as (

    select * from {{ ref('stg_gacc__trade_by_country') }}
    where partner_iso3 = 'USA'

),

census as (

    select period_month, flow, sum(value_usd) as value_usd, bool_or(is_synthetic) as is_synthetic
    from {{ ref('int_us_trade_lines_unioned') }}
    where partner_iso3 = 'CHN' and hs_level = 'HS2'
    group by all

),

census_by_gacc_period as (

    select
        gacc.period_month,
        census.flow,
        sum(census.value_usd) as value_usd,
        count(*) as months_found,
        bool_or(census.is_synthetic) as is_synthetic
    from gacc
    inner join census
        on census.period_month >= gacc.period_month
        and census.period_month < gacc.period_month + to_months(gacc.months_in_period)
    group by all

),

directions as (

    select
        'CN->US' as direction,
        gacc.period_month,
        gacc.months_in_period,
        gacc.exports_usd as exporter_reported_usd,
        census.value_usd as importer_reported_usd,
        'gacc' as exporter_source,
        'census' as importer_source,
        gacc.is_synthetic or census.is_synthetic as is_synthetic
    from gacc
    inner join census_by_gacc_period as census
        on census.period_month = gacc.period_month and census.flow = 'import'
        and census.months_found = gacc.months_in_period

    union all

    select
        'US->CN',
        gacc.period_month,
        gacc.months_in_period,
        census.value_usd,
        gacc.imports_usd,
        'census',
        'gacc',
        gacc.is_synthetic or census.is_synthetic
    from gacc
    inner join census_by_gacc_period as census
        on census.period_month = gacc.period_month and census.flow = 'export'
        and census.months_found = gacc.months_in_period

)

select
    direction,
    period_month,
    months_in_period,
    cast(exporter_reported_usd as bigint) as exporter_reported_usd,
    cast(importer_reported_usd as bigint) as importer_reported_usd,
    cast(importer_reported_usd - exporter_reported_usd as bigint) as gap_usd,
    cast(round(100.0 * (importer_reported_usd - exporter_reported_usd) / nullif(exporter_reported_usd, 0), 4)
        as double) as gap_pct,
    exporter_source,
    importer_source,
    is_synthetic
from directions
