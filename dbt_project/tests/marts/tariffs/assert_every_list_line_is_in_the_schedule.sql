-- Every line of every list a measure names is in the schedule (with that list), and every list is named by a
-- measure (a list no measure uses is a typo somewhere).
with

lists as (

    select list_id, side, code from {{ ref('tariff_line_lists') }}
    union all
    select list_id, side, code from {{ ref('tariff_curated_lines') }}

),

named as (

    select distinct line_list from {{ ref('tariff_measures') }} where not is_alternative

)

select l.list_id, l.code, 'list line missing from the schedule' as problem
from lists as l
anti join {{ ref('tariff_schedule') }} as s
    on s.list_id = l.list_id and s.imposing_side = l.side and s.tariff_line = l.code
union all
select distinct l.list_id, null, 'list named by no measure'
from lists as l
anti join named as n on n.line_list = l.list_id
