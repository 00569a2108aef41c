{{ config(materialized='table') }}
-- Which schedule rows cover which tariff line: a row covers a line when its code is the line or a prefix of it (a
-- heading covers its lines; 'ALL' covers every line of the side). Of one event's codes the most specific counts
-- (lists compiled in several nomenclatures can name a line twice). Measures that never applied are left out.
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

matched as (

    select
        p.imposing_side, p.tariff_line, p.hs_chapter, s.line_digits,
        s.authority, s.measure_id, s.event_id, s.effect, s.exempts, s.rate_pct, s.valid_from, s.valid_until
    from prefixes as p
    inner join schedule as s on s.imposing_side = p.imposing_side and s.tariff_line = p.code
    union all
    select
        l.imposing_side, l.tariff_line, l.hs_chapter, s.line_digits,
        s.authority, s.measure_id, s.event_id, s.effect, s.exempts, s.rate_pct, s.valid_from, s.valid_until
    from lines as l
    inner join schedule as s on s.imposing_side = l.imposing_side and s.tariff_line = 'ALL'

)

select * from matched
qualify row_number() over (partition by imposing_side, tariff_line, event_id order by line_digits desc) = 1
