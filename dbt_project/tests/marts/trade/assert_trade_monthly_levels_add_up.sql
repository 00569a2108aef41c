-- US-reported trade: HS6 and HS4 lines add up to their chapter, and the chapters to the TOTAL (within $1 a line).
with by_level as (
    select reporter_iso3, partner_iso3, flow, period_month, hs_level, left(hs_code, 2) as chapter,
           sum(value_usd) as value_usd, count(*) as n
    from {{ ref('trade_monthly') }}
    where reporter_iso3 = 'USA' and hs_level in ('HS2', 'HS4', 'HS6') and {{ changed_periods_only('period_month') }}
    group by all
),

totals as (
    select reporter_iso3, partner_iso3, flow, period_month, value_usd
    from {{ ref('trade_monthly') }}
    where reporter_iso3 = 'USA' and hs_level = 'TOTAL' and {{ changed_periods_only('period_month') }}
)

select detail.*, chapter.value_usd as chapter_usd
from by_level as detail
inner join by_level as chapter
    using (reporter_iso3, partner_iso3, flow, period_month, chapter)
where chapter.hs_level = 'HS2' and detail.hs_level in ('HS4', 'HS6')
  and abs(detail.value_usd - chapter.value_usd) > detail.n

union all

select chapters.*, totals.value_usd
from (select reporter_iso3, partner_iso3, flow, period_month, 'HS2' as hs_level, 'all' as chapter,
             sum(value_usd) as value_usd, count(*) as n
      from by_level where hs_level = 'HS2' group by all) as chapters
inner join totals using (reporter_iso3, partner_iso3, flow, period_month)
where abs(chapters.value_usd - totals.value_usd) > chapters.n
