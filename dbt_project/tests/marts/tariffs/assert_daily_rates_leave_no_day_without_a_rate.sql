-- Every series starts on 1 January 2018, each state ends the day before the next starts, only the last is open, and
-- the whole-trade rate is never missing.
with

states as (

    select
        *,
        lead(change_date) over (partition by imposing_side, weighting, hs_level, hs_code order by change_date) as next_date,
        min(change_date) over (partition by imposing_side, weighting, hs_level, hs_code) as first_date
    from {{ ref('tariff_rates_daily') }}

)

select imposing_side, weighting, hs_level, hs_code, change_date, state_until, next_date
from states
where first_date <> date '2018-01-01'
    or (next_date is not null and state_until <> next_date - 1)
    or (next_date is null and state_until is not null)
    or (hs_level = 'TOTAL' and (additional_rate_pct is null or total_rate_pct is null))
