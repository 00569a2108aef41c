-- Where Comtrade gives HS2 chapters for a partner and flow, they add up to its TOTAL within $1 per chapter.
with chapters as (
    select period_month, partner_iso3, flow, sum(value_usd) as chapters_usd, count(*) as n
    from {{ ref('stg_comtrade__cn_trade') }}
    where hs_level = 'HS2'
    group by all
),

totals as (
    select period_month, partner_iso3, flow, value_usd as total_usd
    from {{ ref('stg_comtrade__cn_trade') }}
    where hs_level = 'TOTAL'
)

select chapters.*, totals.total_usd
from chapters
inner join totals using (period_month, partner_iso3, flow)
where abs(chapters.chapters_usd - totals.total_usd) > chapters.n
