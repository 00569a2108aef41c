-- No partner's trade in a chapter exceeds the all-countries total for that chapter (in an incremental build, in the
-- months it rebuilt).
with lines as (
    select * from {{ ref('int_us_trade_lines_unioned') }}
    where {{ changed_periods_only('period_month') }}
)

select partner.*
from lines as partner
inner join lines as world
    on partner.flow = world.flow
    and partner.hs_level = world.hs_level
    and partner.hs_code = world.hs_code
    and partner.period_month = world.period_month
    and world.partner_iso3 = 'WLD'
where partner.partner_iso3 <> 'WLD'
  and partner.value_usd > world.value_usd
