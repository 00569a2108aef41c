-- Statutory tariff rates by month (the fixed base-year weighting of tariff_rates_daily, averaged over the days of
-- the month, and the state on its last day), beside the effective US rate (calculated duty / consumption value).
-- See _tariffs__models.yml for the method and its caveats.
with

us_lines as (

    select * from {{ ref('int_us_trade_lines_unioned') }}
    where flow = 'import' and partner_iso3 = 'CHN'

),

months as (

    select distinct
        period_month,
        cast(period_month + interval 1 month - interval 1 day as date) as month_end
    from us_lines

),

daily as (

    select * from {{ ref('tariff_rates_daily') }}
    where weighting = 'fixed_base_year'

),

-- the days of each state that fall in each month
month_states as (

    select
        m.period_month,
        d.imposing_side,
        d.hs_level,
        d.hs_code,
        d.additional_rate_pct,
        d.total_rate_pct,
        d.weight_year,
        d.weight_source,
        (least(m.month_end, coalesce(d.state_until, m.month_end))
         - greatest(m.period_month, d.change_date) + 1) as days,
        m.month_end between d.change_date and coalesce(d.state_until, m.month_end) as is_month_end
    from months as m
    inner join daily as d
        on d.change_date <= m.month_end
        and coalesce(d.state_until, m.month_end) >= m.period_month

),

statutory as (

    select
        imposing_side,
        hs_level,
        hs_code,
        period_month,
        sum(additional_rate_pct * days) / sum(days) as additional_day_weighted,
        sum(total_rate_pct * days) / sum(days) as total_day_weighted,
        -- a month the series starts in part way through has no day-weighted average
        sum(days) = day(max(period_month + interval 1 month - interval 1 day)) as is_whole_month,
        max(additional_rate_pct) filter (where is_month_end) as additional_month_end,
        max(total_rate_pct) filter (where is_month_end) as total_month_end,
        max(weight_year) filter (where is_month_end) as weight_year,
        max(weight_source) filter (where is_month_end) as weight_source
    from month_states
    group by all

),

-- measures with a duty in force on at least one day of the month, by side and chapter
measures_in_month as (

    select
        s.imposing_side,
        m.period_month,
        case when s.tariff_line = 'ALL' then null else left(s.tariff_line, 2) end as hs_chapter,
        s.measure_id
    from {{ ref('int_tariff_schedule') }} as s
    inner join months as m
        on s.valid_from <= m.month_end and coalesce(s.valid_until, m.month_end) >= m.period_month
    where s.applied and s.effect = 'duty' and s.authority <> 'mfn' and s.rate_pct > 0

),

measures_by_code as (

    select imposing_side, period_month, 'TOTAL' as hs_code,
           string_agg(distinct measure_id, ',' order by measure_id) as measures
    from measures_in_month
    group by all
    union all
    select c.imposing_side, c.period_month, c.hs_code, string_agg(distinct m.measure_id, ',' order by m.measure_id)
    from (select distinct imposing_side, period_month, hs_code from statutory where hs_level = 'HS2') as c
    inner join measures_in_month as m
        on m.imposing_side = c.imposing_side and m.period_month = c.period_month
        and (m.hs_chapter is null or m.hs_chapter = c.hs_code)
    group by all

),

us_effective as (

    select
        period_month,
        case when grouping(hs_code) = 1 then 'TOTAL' else 'HS2' end as hs_level,
        coalesce(hs_code, 'TOTAL') as hs_code,
        sum(calculated_duty_usd) as duty_usd,
        sum(consumption_imports_usd) as consumption_usd,
        bool_or(is_synthetic) as is_synthetic
    from us_lines
    where hs_level = 'HS2'
    group by grouping sets ((period_month), (period_month, hs_code))

),

synthetic as (

    select bool_or(is_synthetic) as is_synthetic from us_lines

),

rows as (

    select
        coalesce(s.imposing_side, 'US') as imposing_side,
        coalesce(s.hs_level, e.hs_level) as hs_level,
        coalesce(s.hs_code, e.hs_code) as hs_code,
        coalesce(s.period_month, e.period_month) as period_month,
        s.additional_day_weighted,
        s.total_day_weighted,
        s.is_whole_month,
        s.additional_month_end,
        s.total_month_end,
        s.weight_year,
        s.weight_source,
        e.duty_usd,
        e.consumption_usd,
        e.is_synthetic
    from (select * from statutory where imposing_side = 'US') as s
    full outer join us_effective as e
        on e.period_month = s.period_month and e.hs_level = s.hs_level and e.hs_code = s.hs_code
    union all
    select
        imposing_side, hs_level, hs_code, period_month, additional_day_weighted, total_day_weighted,
        is_whole_month, additional_month_end, total_month_end, weight_year, weight_source,
        null, null, null
    from statutory
    where imposing_side = 'CN'

)

select
    r.imposing_side,
    r.hs_level,
    r.hs_code,
    r.period_month,
    cast(round(case when r.is_whole_month then r.additional_day_weighted end, 4) as double)
        as statutory_additional_rate_pct,
    cast(round(case when r.is_whole_month then r.total_day_weighted end, 4) as double) as statutory_total_rate_pct,
    cast(round(r.additional_month_end, 4) as double) as statutory_additional_rate_month_end_pct,
    cast(round(r.total_month_end, 4) as double) as statutory_total_rate_month_end_pct,
    cast(round(100.0 * r.duty_usd / nullif(r.consumption_usd, 0), 4) as double) as effective_rate_pct,
    cast(r.duty_usd as bigint) as calculated_duty_usd,
    cast(r.consumption_usd as bigint) as consumption_value_usd,
    m.measures as measures_in_force,
    cast(r.weight_year as integer) as weight_year,
    r.weight_source,
    coalesce(r.is_synthetic, (select is_synthetic from synthetic)) as is_synthetic
from rows as r
left join measures_by_code as m
    on m.imposing_side = r.imposing_side and m.period_month = r.period_month and m.hs_code = r.hs_code
