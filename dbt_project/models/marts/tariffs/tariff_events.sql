-- Tariff measures and export controls of both sides, one row per event, dated, with source and confidence. The
-- tariff events are the states of tariff_measures (the MFN baselines left out): the schedule takes its rates and
-- dates from the same rows, and lines_in_schedule counts the tariff lines each event puts a rate on.
with

schedule_lines as (

    select event_id, count(*) as lines_in_schedule
    from {{ ref('int_tariff_schedule') }}
    group by all

),

tariffs as (

    select
        m.event_id,
        m.side,
        case when m.instrument in ('truce', 'court') then m.instrument
             when m.effect = 'exemption' then 'exemption' else 'tariff' end as event_type,
        m.instrument,
        m.measure_id,
        m.legal_ref as measure,
        m.date_announced,
        m.date_effective,
        m.date_end,
        m.rate_before as rate_before_pct,
        m.rate_after as rate_after_pct,
        m.coverage_value_usd_bn,
        nullif(m.hs_scope, '') as hs_scope,
        cast(null as varchar) as affected_baskets,
        m.partner_scope,
        m.status,
        m.is_alternative,
        m.confidence,
        m.source_url,
        m.notes,
        m.effect,
        nullif(m.line_list, '') as line_list,
        m.applied,
        cast(coalesce(s.lines_in_schedule, 0) as bigint) as lines_in_schedule
    from {{ ref('tariff_measures') }} as m
    left join schedule_lines as s on s.event_id = m.event_id
    where m.status <> 'baseline'

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
        detail as notes,
        cast(null as varchar) as effect,
        cast(null as varchar) as line_list,
        true as applied,
        cast(0 as bigint) as lines_in_schedule
    from {{ ref('export_controls') }}

)

select * from tariffs
union all
select * from controls
