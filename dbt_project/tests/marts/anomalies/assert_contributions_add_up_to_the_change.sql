-- The contributions of every anomaly add up to its change: a total's chapters (or a chapter's or basket's lines),
-- OTHER and UNALLOCATED included, to change_usd; the lines of each chapter a total opens, to that chapter's change;
-- and the shares of the headline level to 100%. Within a dollar (and 0.1 point of share): values are whole dollars.
{{ config(tags=['detector']) }}

with

parts as (

    select
        anomalies.anomaly_id,
        anomalies.change_usd as anomaly_change_usd,
        unnest(from_json(anomalies.contributions,
                         '[{"hs_level": "VARCHAR", "hs_code": "VARCHAR", "parent_code": "VARCHAR",
                            "change_usd": "DOUBLE", "share_pct": "DOUBLE"}]')) as part
    from {{ ref('anomalies') }} as anomalies
    where anomalies.contributions is not null

),

headline as (

    select anomaly_id, 'headline level' as what, any_value(anomaly_change_usd) as expected_usd,
           sum(part.change_usd) as summed_usd, sum(part.share_pct) as summed_share_pct
    from parts
    where part.parent_code is null
    group by anomaly_id

),

opened as (

    select lines.anomaly_id, 'lines of HS ' || lines.part.parent_code as what,
           any_value(chapter.part.change_usd) as expected_usd, sum(lines.part.change_usd) as summed_usd,
           null as summed_share_pct
    from parts as lines
    inner join parts as chapter
        on lines.anomaly_id = chapter.anomaly_id and chapter.part.parent_code is null
        and chapter.part.hs_code = lines.part.parent_code
    where lines.part.parent_code is not null
    group by lines.anomaly_id, lines.part.parent_code

)

select * from headline
where abs(summed_usd - expected_usd) > 1 or abs(summed_share_pct - 100) > 0.1
union all
select * from opened
where abs(summed_usd - expected_usd) > 1
