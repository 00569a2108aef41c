-- Tariff measures and export controls of both sides, one row per event, dated, with source and confidence.
with

tariffs as (

    select
        event_id,
        side,
        case when instrument in ('truce', 'court') then instrument else 'tariff' end as event_type,
        instrument,
        measure_id,
        legal_ref as measure,
        date_announced,
        date_effective,
        date_end,
        rate_before as rate_before_pct,
        rate_after as rate_after_pct,
        coverage_value_usd_bn,
        nullif(hs_scope, '') as hs_scope,
        cast(null as varchar) as affected_baskets,
        partner_scope,
        status,
        is_alternative,
        confidence,
        source_url,
        notes
    from {{ ref('tariff_measures') }}

),

controls as (

    select
        event_id,
        side,
        'export_control' as event_type,
        'export_control' as instrument,
        event_id as measure_id,
        measure,
        cast(null as date) as date_announced,
        date_effective,
        cast(null as date) as date_end,
        cast(null as double) as rate_before_pct,
        cast(null as double) as rate_after_pct,
        cast(null as double) as coverage_value_usd_bn,
        cast(null as varchar) as hs_scope,
        affected_baskets,
        case side when 'US' then 'CHN' else 'USA' end as partner_scope,
        status,
        false as is_alternative,
        confidence,
        source_url,
        detail as notes
    from {{ ref('export_controls') }}

)

select * from tariffs
union all
select * from controls
