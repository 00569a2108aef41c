-- How published figures change between vintages: first published vs each later vintage, per series and month.
-- Census: the bilateral totals of each vintage of a month. BLS: each series' value in every release that carries
-- the month (preliminary values are revised in later releases).
with

releases as (

    select * from {{ source('audit', 'releases') }}
    where status in ('published', 'released')

),

census as (

    select
        'census' as source,
        case when raw.dataset = 'census_imports_hs' then 'US imports from China' else 'US exports to China' end
            as series,
        raw.period as period_month,
        releases.vintage,
        releases.period as release_month,
        releases.release_id,
        sum(coalesce(raw.gen_val_mo, raw.all_val_mo)) as value
    from (
        select release_id, dataset, period, cty_code, comm_lvl, gen_val_mo, null as all_val_mo
        from (select *, 'census_imports_hs' as dataset from {{ source('census', 'census_imports_hs') }})
        union all
        select release_id, dataset, period, cty_code, comm_lvl, null, all_val_mo
        from (select *, 'census_exports_hs' as dataset from {{ source('census', 'census_exports_hs') }})
    ) as raw
    inner join releases on raw.release_id = releases.release_id
    where raw.cty_code = '5700' and raw.comm_lvl = 'HS2'
    group by all

),

bls as (

    select
        'bls' as source,
        raw.series_id as series,
        raw.period as period_month,
        cast(row_number() over (partition by raw.series_id, raw.period
                                order by releases.period, releases.vintage) as integer) as vintage,
        releases.period as release_month,
        releases.release_id,
        raw.value
    from {{ source('bls', 'bls_series') }} as raw
    inner join releases on raw.release_id = releases.release_id

),

vintages as (

    select * from census
    union all
    select * from bls

),

compared as (

    select
        *,
        first_value(value) over whole as first_published_value,
        last_value(value) over whole as latest_value,
        lag(value) over (partition by source, series, period_month order by vintage) as previous_value
    from vintages
    window whole as (partition by source, series, period_month order by vintage
                     rows between unbounded preceding and unbounded following)

),

changes as (

    -- the first vintage, and every later one that changed the value
    select * from compared where previous_value is null or value is distinct from previous_value

)

select
    source,
    series,
    period_month,
    cast(vintage as integer) as vintage,
    release_month,
    release_id,
    cast(value as double) as value,
    cast(first_published_value as double) as first_published_value,
    cast(latest_value as double) as latest_value,
    cast(round(100.0 * (value - first_published_value) / nullif(first_published_value, 0), 4) as double)
        as revision_from_first_pct,
    vintage = max(vintage) over (partition by source, series, period_month) as is_latest
from changes
