-- The components of each anomaly's year-on-year change, as the last scan wrote them.
select
    anomaly_id,
    level as hs_level,
    code as hs_code,
    parent_code,
    label,
    value_usd,
    value_year_ago_usd,
    change_usd,
    share_pct,
    rank

from {{ source('detector', 'anomaly_contributions') }}
