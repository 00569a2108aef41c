-- A measure is in one state at a time: the validity intervals of a measure's primary rows never overlap.
with events as (
    select * from {{ ref('tariff_measures') }}
    where not is_alternative and date_effective is not null
)

select a.event_id, b.event_id as overlaps_with, a.measure_id
from events as a
inner join events as b
    on a.measure_id = b.measure_id
    and a.event_id < b.event_id
    and a.date_effective <= coalesce(b.date_end, date '9999-12-31')
    and b.date_effective <= coalesce(a.date_end, date '9999-12-31')
