{{ config(materialized='table') }}
-- Which schedule rows cover which tariff line: a row covers a line when its code is the line or a prefix of it (a
-- heading covers its lines; 'ALL' covers every line of the side). China renumbers its 8-digit lines every year: a
-- code of its 2025 lists that the 2018 lines do not have covers the 2018 lines of its HS6 subheading instead
-- (match = 'hs6'). Of one event's codes the most specific counts (lists compiled in several nomenclatures can name a
-- line twice). Measures that never applied are left out.
with

schedule as (

    select * from {{ ref('int_tariff_schedule') }}
    where applied

),

lines as (

    select * from {{ ref('int_tariff_lines') }}

),

prefixes as (

    select imposing_side, tariff_line, hs_chapter, left(tariff_line, n) as code
    from lines, range(2, 12) as r (n)
    where n <= length(tariff_line)

),

base_prefixes as (

    select distinct p.imposing_side, p.code
    from prefixes as p
    inner join lines as l
        on l.imposing_side = p.imposing_side and l.tariff_line = p.tariff_line and l.line_origin <> 'schedule'

),

renumbered as (

    select s.*
    from schedule as s
    anti join base_prefixes as p on p.imposing_side = s.imposing_side and p.code = s.tariff_line
    where s.imposing_side = 'CN' and s.nomenclature = 'CN 2025 HS8'

),

matched as (

    select
        'code' as match,
        p.imposing_side, p.tariff_line, p.hs_chapter, s.line_digits,
        s.authority, s.measure_id, s.event_id, s.effect, s.exempts, s.rate_pct, s.value_share, s.valid_from,
        s.valid_until
    from prefixes as p
    inner join schedule as s on s.imposing_side = p.imposing_side and s.tariff_line = p.code
    union all
    select
        'hs6', l.imposing_side, l.tariff_line, l.hs_chapter, 6,
        s.authority, s.measure_id, s.event_id, s.effect, s.exempts, s.rate_pct, s.value_share, s.valid_from,
        s.valid_until
    from renumbered as s
    inner join lines as l
        on l.imposing_side = s.imposing_side and l.line_origin <> 'schedule'
        and left(l.tariff_line, 6) = left(s.tariff_line, 6)
    union all
    select
        'all', l.imposing_side, l.tariff_line, l.hs_chapter, s.line_digits,
        s.authority, s.measure_id, s.event_id, s.effect, s.exempts, s.rate_pct, s.value_share, s.valid_from,
        s.valid_until
    from lines as l
    inner join schedule as s on s.imposing_side = l.imposing_side and s.tariff_line = 'ALL'

)

select * from matched
qualify row_number() over (partition by imposing_side, tariff_line, event_id order by line_digits desc) = 1
