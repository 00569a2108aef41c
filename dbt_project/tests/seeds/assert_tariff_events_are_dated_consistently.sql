-- Announced no later than effective (only an exemption may be retroactive: the 11 April 2025 electronics
-- exclusion went back to 5 April), effective no later than the end; a rate change has both rates; a measure
-- with a line list names one that exists (or ALL / MFN).
select event_id, 'dates' as problem
from {{ ref('tariff_measures') }}
where (date_announced > date_effective and effect <> 'exemption')
   or date_effective > date_end
   or (rate_after is not null and rate_unit is null)
union all
select event_id, 'unknown line list ' || line_list
from {{ ref('tariff_measures') }}
where coalesce(line_list, '') not in ('', 'ALL', 'MFN')
    and line_list not in (select list_id from {{ ref('tariff_line_lists') }}
                          union select list_id from {{ ref('tariff_curated_lines') }})
