-- The events and the schedule cannot disagree: every schedule row is a state of tariff_measures with that state's
-- dates (an MFN line state ends where the line's next one starts) and rate (a list with tiers gives its own), and
-- every applied tariff event with a line list puts a rate on at least one line.
with

measures as (

    select * from {{ ref('tariff_measures') }} where not is_alternative

)

select s.event_id, s.tariff_line, 'schedule row of no event, or with other dates or rate' as problem
from {{ ref('tariff_schedule') }} as s
left join measures as m on m.event_id = s.event_id
where m.event_id is null
    or s.valid_from <> m.date_effective
    or (s.authority <> 'mfn' and s.valid_until is distinct from m.date_end)
    or (s.effect = 'duty' and s.list_id in ('ALL') and s.rate_pct is distinct from m.rate_after)
union all
select event_id, null, 'applied event without schedule lines'
from {{ ref('tariff_events') }}
where event_type in ('tariff', 'exemption') and applied and not is_alternative and line_list is not null
    and lines_in_schedule = 0
