-- Anomalous moves per series and period, from the detector's findings (the statistics run in Python after each
-- build: tradewatch.anomalies), with the components that carried each change, a one-line summary of the leading
-- ones, whether the headline is stable, and the query that shows the row. Built after the scan
-- (tradewatch.transform.build_anomalies), not in the main build: tag detector.
{{ config(tags=['detector']) }}

with

findings as (

    select * from {{ ref('stg_detector__anomaly_findings') }}

),

parts as (

    select * from {{ ref('stg_detector__anomaly_contributions') }}

),

-- the level the headline names: a total's chapters, a chapter's or a basket's lines
headline_parts as (

    select parts.*
    from parts
    where parts.parent_code is null

),

ordered as (

    select
        parts.*,
        coalesce(chapter.rank, 0) as parent_rank
    from parts
    left join headline_parts as chapter
        on parts.anomaly_id = chapter.anomaly_id and parts.parent_code = chapter.hs_code

),

as_json as (

    select
        anomaly_id,
        to_json(list({
            'hs_level': hs_level, 'hs_code': hs_code, 'parent_code': parent_code, 'label': label,
            'value_usd': value_usd, 'value_year_ago_usd': value_year_ago_usd, 'change_usd': change_usd,
            'share_pct': share_pct
        } order by parent_rank, rank)) as contributions
    from ordered
    group by anomaly_id

),

leaders as (

    -- the three named components that moved most in the direction of the change
    select
        anomaly_id,
        label,
        share_pct,
        row_number() over (partition by anomaly_id order by share_pct desc, rank) as position
    from headline_parts
    where hs_code not in ('OTHER', 'UNALLOCATED') and share_pct > 0
    qualify position <= 3

),

offsets as (

    select
        anomaly_id,
        -sum(share_pct) filter (where share_pct < 0) as offset_pct
    from headline_parts
    group by anomaly_id

),

summaries as (

    select
        leaders.anomaly_id,
        string_agg(
            leaders.label
            || case
                when leaders.position = 1
                    then ' carried ' || round(leaders.share_pct)::integer || '% of the '
                    || case when findings.change_usd < 0 then 'fall' else 'rise' end
                else ' ' || round(leaders.share_pct)::integer || '%'
            end,
            ', ' order by leaders.position
        )
        || coalesce(
            case
                when offsets.offset_pct >= 1
                    then '; ' || case when findings.change_usd < 0 then 'rises' else 'falls' end
                    || ' elsewhere offset ' || round(offsets.offset_pct)::integer || '%'
            end,
            ''
        ) as top_contributions
    from leaders
    inner join findings on leaders.anomaly_id = findings.anomaly_id
    left join offsets on leaders.anomaly_id = offsets.anomaly_id
    group by leaders.anomaly_id, findings.change_usd, offsets.offset_pct

)

select
    findings.anomaly_id,
    findings.series_id,
    findings.domain,
    findings.series_label,
    findings.reporter_iso3,
    findings.partner_iso3,
    findings.flow,
    findings.code,
    findings.period_month,
    findings.months_in_period,
    findings.period_label,
    findings.category,
    findings.method,
    findings.unit,
    findings.observed,
    findings.expected,
    findings.change_pct,
    findings.score,
    findings.confidence,
    findings.severity,
    findings.is_material,
    findings.share_of_bilateral_pct,
    findings.consecutive_months,
    findings.largest_fall_since,
    findings.lowest_since,
    findings.history_start,
    findings.likely_cause,
    findings.likely_cause_event_id,
    findings.events,
    'SELECT * FROM marts.anomalies WHERE anomaly_id = ''' || findings.anomaly_id || '''' as query,
    findings.series_last_period,
    findings.is_synthetic,
    findings.detected_at,
    findings.source,
    findings.direction,
    findings.prior_value,
    findings.change_usd,
    findings.threshold_pct,
    findings.is_low_base,
    findings.held_previous_period,
    findings.held_before_revision,
    case
        when findings.category = 'economic'
            then coalesce(findings.held_previous_period, false) and coalesce(findings.held_before_revision, true)
    end as is_stable,
    as_json.contributions,
    summaries.top_contributions

from findings
left join as_json on findings.anomaly_id = as_json.anomaly_id
left join summaries on findings.anomaly_id = summaries.anomaly_id
