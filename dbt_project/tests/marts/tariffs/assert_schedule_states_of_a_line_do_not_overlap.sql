-- A measure is in one state at a time on a line: its schedule rows for one line never overlap.
select a.imposing_side, a.tariff_line, a.measure_id, a.event_id, b.event_id as overlaps_with
from {{ ref('tariff_schedule') }} as a
inner join {{ ref('tariff_schedule') }} as b
    on a.imposing_side = b.imposing_side and a.tariff_line = b.tariff_line and a.measure_id = b.measure_id
    and a.event_id < b.event_id
    and a.valid_from <= coalesce(b.valid_until, date '9999-12-31')
    and b.valid_from <= coalesce(a.valid_until, date '9999-12-31')
