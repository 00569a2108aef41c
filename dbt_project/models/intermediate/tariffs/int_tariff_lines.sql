-- The tariff lines each side's rates are stacked on: the lines trade is weighted by (US HS10, China's HS10 from
-- PIIE's rate table and the HS8 codes of its 2017 weights that have no HS10 line there), plus every code of the
-- schedule that is not already a prefix of one of them (a list line in an older nomenclature, a heading), so every
-- line of every list gets its stacked rates.
with

schedule_codes as (

    select distinct imposing_side as side, tariff_line as code
    from {{ ref('int_tariff_schedule') }}
    where tariff_line <> 'ALL'

),

weight_lines as (

    select distinct side, code from {{ ref('int_tariff_weight_sources') }}
    where level = 'line' and side = 'US'

),

cn_rate_lines as (

    select distinct 'CN' as side, hs10 as code from {{ ref('cn_mfn_rates') }}

),

cn_weight_lines as (

    -- 2017 HS8 codes without an HS10 line below them in the rate table (codes renumbered in 2018, 'chapter only')
    select distinct w.side, w.code
    from {{ ref('int_tariff_weight_sources') }} as w
    anti join cn_rate_lines as r on left(r.code, 8) = w.code
    where w.level = 'line' and w.side = 'CN'

),

base as (

    select side, code, 'trade weights' as line_origin from weight_lines
    union all
    select side, code, 'rate table' from cn_rate_lines
    union all
    select side, code, 'trade weights' from cn_weight_lines

),

base_prefixes as (

    select distinct side, left(code, n) as prefix
    from base, range(2, 12) as r(n)
    where n <= length(code)

),

extra as (

    select s.side, s.code
    from schedule_codes as s
    anti join base_prefixes as p on p.side = s.side and p.prefix = s.code

)

select side as imposing_side, code as tariff_line, left(code, 2) as hs_chapter, line_origin
from base
union all
select side, code, left(code, 2), 'schedule'
from extra
