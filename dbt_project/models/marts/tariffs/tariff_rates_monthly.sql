-- Statutory additional tariff rates from the events, weighted by last year's imports, beside the effective US
-- rate (calculated duty / consumption value). See _tariffs__models.yml for the method and its caveats.
with

us_lines as (

    select * from {{ ref('int_us_trade_lines_unioned') }}
    where flow = 'import' and partner_iso3 = 'CHN'

),

months as (

    select distinct period_month from us_lines

),

measures as (

    select
        *,
        case when hs_scope is null or hs_scope = '' then [] else string_split(hs_scope, ';') end as scope_codes
    from {{ ref('tariff_events') }}
    where not is_alternative
        and rate_after_pct is not null
        and event_type = 'tariff'

),

in_force as (

    select months.period_month, measures.*
    from months
    inner join measures
        on measures.date_effective <= months.period_month + interval 14 day
        and coalesce(measures.date_end, date '9999-12-31') >= months.period_month + interval 14 day

),

-- weights: the previous calendar year's US imports from China, in total, by chapter, and by HS line
us_year_lines as (

    select year(period_month) as year, hs_level, hs_code, sum(value_usd) as value_usd
    from us_lines
    group by all

),

us_year_total as (

    select year, sum(value_usd) as value_usd from us_year_lines where hs_level = 'HS2' group by all

),

-- share of a scoped measure in the whole and in each chapter (scope codes of 2 digits match chapters, longer
-- codes match HS6 lines by prefix)
scope_values as (

    select
        in_force.period_month,
        in_force.measure_id,
        lines.hs_code,
        left(lines.hs_code, 2) as chapter,
        lines.value_usd
    from in_force
    inner join us_year_lines as lines
        on lines.year = year(in_force.period_month) - 1
        and (
            (lines.hs_level = 'HS2' and list_contains(in_force.scope_codes, lines.hs_code))
            or (lines.hs_level = 'HS6' and len(list_filter(in_force.scope_codes,
                lambda c: length(c) > 2 and starts_with(lines.hs_code, c))) > 0)
        )
    where in_force.side = 'US'

),

us_weighted as (

    select
        in_force.period_month,
        in_force.measure_id,
        in_force.rate_after_pct,
        {{ measure_share('in_force.covered_usd', 'in_force.total_usd') }} as total_share
    from (
        select
            in_force.*,
            coalesce((select sum(v.value_usd) from scope_values as v
                      where v.period_month = in_force.period_month and v.measure_id = in_force.measure_id), 0)
                as covered_usd,
            total.value_usd as total_usd
        from in_force
        left join us_year_total as total on total.year = year(in_force.period_month) - 1
        where in_force.side = 'US'
            and (in_force.partner_scope like '%CHN%' or in_force.partner_scope in ('all', 'all origins'))
    ) as in_force

),

chapters as (

    select distinct period_month, hs_code as chapter from us_lines where hs_level = 'HS2'

),

us_chapter_shares as (

    select
        chapters.period_month,
        chapters.chapter,
        w.measure_id,
        w.rate_after_pct,
        w.total_share,
        case
            when list_contains(m.scope_codes, 'all') then 1.0
            when len(m.scope_codes) > 0
                then coalesce((select sum(v.value_usd) from scope_values as v
                               where v.period_month = chapters.period_month and v.measure_id = w.measure_id
                                   and v.chapter = chapters.chapter), 0)
                    / nullif(chapter_total.value_usd, 0)
            else w.total_share  -- a listed measure without HS lines: spread evenly over chapters
        end as chapter_share
    from chapters
    left join us_weighted as w on w.period_month = chapters.period_month
    left join in_force as m on m.period_month = w.period_month and m.measure_id = w.measure_id
    left join us_year_lines as chapter_total
        on chapter_total.year = year(chapters.period_month) - 1
        and chapter_total.hs_level = 'HS2'
        and chapter_total.hs_code = chapters.chapter

),

us_chapter as (

    select
        w.period_month,
        w.chapter,
        {{ statutory_rate('w.chapter_share') }}
    from us_chapter_shares as w
    group by w.period_month, w.chapter

),

us_effective as (

    select
        period_month,
        case when hs_level = 'HS2' then hs_code end as chapter,
        sum(calculated_duty_usd) as duty_usd,
        sum(consumption_imports_usd) as consumption_usd,
        bool_or(is_synthetic) as is_synthetic
    from us_lines
    where hs_level = 'HS2'
    group by grouping sets ((period_month), (period_month, hs_level, hs_code))

),

-- China's side: weighted with China's imports from the US (GACC for totals, Comtrade lines for HS scopes)
cn_year_total as (

    select year(period_month) as year, sum(imports_usd) as value_usd
    from {{ ref('stg_gacc__trade_by_country') }}
    where partner_iso3 = 'USA'
    group by all

),

cn_year_lines as (

    select year(period_month) as year, hs_code, sum(value_usd) as value_usd
    from {{ ref('stg_comtrade__cn_trade') }}
    where partner_iso3 = 'USA' and flow = 'import' and hs_level in ('HS2', 'HS6')
    group by all

),

cn_weighted as (

    select
        in_force.period_month,
        in_force.measure_id,
        in_force.rate_after_pct,
        {{ measure_share('in_force.covered_usd', 'in_force.total_usd') }} as total_share
    from (
        select
            in_force.*,
            (select sum(l.value_usd) from cn_year_lines as l
             where l.year = year(in_force.period_month) - 1
                 and len(list_filter(in_force.scope_codes, lambda c: starts_with(l.hs_code, c)
                     and length(l.hs_code) = 6)) > 0) as covered_usd,
            total.value_usd as total_usd
        from in_force
        left join cn_year_total as total on total.year = year(in_force.period_month) - 1
        where in_force.side = 'CN'
    ) as in_force

),

-- the statutory rate of each side, in total, every month
side_totals as (

    select
        sides.side,
        months.period_month,
        {{ statutory_rate('w.total_share') }}
    from months
    cross join (values ('US'), ('CN')) as sides (side)
    left join (
        select 'US' as side, * from us_weighted
        union all
        select 'CN' as side, * from cn_weighted
    ) as w on w.period_month = months.period_month and w.side = sides.side
    group by sides.side, months.period_month

),

synthetic as (

    select bool_or(is_synthetic) as is_synthetic from us_lines

)

select
    'US' as imposing_side,
    'TOTAL' as hs_level,
    'TOTAL' as hs_code,
    t.period_month,
    cast(round(t.statutory_pct, 4) as double) as statutory_additional_rate_pct,
    cast(round(100.0 * e.duty_usd / nullif(e.consumption_usd, 0), 4) as double) as effective_rate_pct,
    cast(e.duty_usd as bigint) as calculated_duty_usd,
    cast(e.consumption_usd as bigint) as consumption_value_usd,
    t.measures as measures_in_force,
    cast(year(t.period_month) - 1 as integer) as weight_year,
    e.is_synthetic
from side_totals as t
left join us_effective as e on e.period_month = t.period_month and e.chapter is null
where t.side = 'US'

union all

select
    'US', 'HS2', c.chapter, c.period_month,
    cast(round(c.statutory_pct, 4) as double),
    cast(round(100.0 * e.duty_usd / nullif(e.consumption_usd, 0), 4) as double),
    cast(e.duty_usd as bigint),
    cast(e.consumption_usd as bigint),
    c.measures,
    cast(year(c.period_month) - 1 as integer),
    e.is_synthetic
from us_chapter as c
left join us_effective as e on e.period_month = c.period_month and e.chapter = c.chapter

union all

select
    'CN', 'TOTAL', 'TOTAL', t.period_month,
    cast(round(t.statutory_pct, 4) as double),
    cast(null as double),
    cast(null as bigint),
    cast(null as bigint),
    t.measures,
    cast(year(t.period_month) - 1 as integer),
    (select is_synthetic from synthetic)
from side_totals as t
where t.side = 'CN'
