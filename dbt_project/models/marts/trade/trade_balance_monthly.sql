-- Bilateral trade balance by period, as each reporter reports it. US figures (Census) are the sum of the HS2
-- chapters (they add up exactly to the all-commodity total); China's (GACC) come from its country table, where
-- January and February are one period (months_in_period = 2), compared with the same combined period a year
-- earlier.
with

us_lines as (

    select * from {{ ref('int_us_trade_lines_unioned') }}
    where hs_level = 'HS2'

),

us_monthly as (

    select
        reporter_iso3,
        partner_iso3,
        period_month,
        1 as months_in_period,
        cast(coalesce(sum(value_usd) filter (where flow = 'export'), 0) as bigint) as exports_usd,
        cast(coalesce(sum(value_usd) filter (where flow = 'import'), 0) as bigint) as imports_usd,
        'census' as source,
        bool_or(is_synthetic) as is_synthetic
    from us_lines
    group by reporter_iso3, partner_iso3, period_month

),

cn_monthly as (

    select
        'CHN' as reporter_iso3,
        partner_iso3,
        period_month,
        months_in_period,
        cast(exports_usd as bigint) as exports_usd,
        cast(imports_usd as bigint) as imports_usd,
        'gacc' as source,
        is_synthetic
    from {{ ref('stg_gacc__trade_by_country') }}

),

monthly as (

    select * from us_monthly
    union all
    select * from cn_monthly

),

with_balance as (

    select
        *,
        exports_usd - imports_usd as balance_usd
    from monthly

),

year_ago as (

    select
        reporter_iso3,
        partner_iso3,
        cast(period_month + interval 12 month as date) as period_month,
        exports_usd as exports_usd_year_ago,
        imports_usd as imports_usd_year_ago,
        balance_usd as balance_usd_year_ago
    from with_balance

),

windowed as (

    select
        with_balance.*,
        year_ago.exports_usd_year_ago,
        year_ago.imports_usd_year_ago,
        year_ago.balance_usd_year_ago,
        sum(with_balance.exports_usd) over ytd as exports_ytd_usd,
        sum(with_balance.imports_usd) over ytd as imports_ytd_usd,
        sum(with_balance.exports_usd) over last_12 as exports_12m_usd,
        sum(with_balance.imports_usd) over last_12 as imports_12m_usd,
        sum(with_balance.months_in_period) over last_12 as months_in_window
    from with_balance
    left join year_ago
        on with_balance.reporter_iso3 = year_ago.reporter_iso3
        and with_balance.partner_iso3 = year_ago.partner_iso3
        and with_balance.period_month = year_ago.period_month
    window
        ytd as (
            partition by with_balance.reporter_iso3, with_balance.partner_iso3, year(with_balance.period_month)
            order by with_balance.period_month
            rows between unbounded preceding and current row
        ),
        last_12 as (
            partition by with_balance.reporter_iso3, with_balance.partner_iso3
            order by with_balance.period_month
            range between interval 11 month preceding and current row
        )

)

select
    reporter_iso3,
    partner_iso3,
    period_month,
    months_in_period,
    exports_usd,
    imports_usd,
    balance_usd,
    exports_usd + imports_usd as total_trade_usd,
    cast({{ safe_pct_change('exports_usd', 'exports_usd_year_ago') }} as double) as exports_yoy_pct,
    cast({{ safe_pct_change('imports_usd', 'imports_usd_year_ago') }} as double) as imports_yoy_pct,
    balance_usd - balance_usd_year_ago as balance_yoy_change_usd,
    cast(exports_ytd_usd as bigint) as exports_ytd_usd,
    cast(imports_ytd_usd as bigint) as imports_ytd_usd,
    cast(exports_ytd_usd - imports_ytd_usd as bigint) as balance_ytd_usd,
    -- rolling sums only when all 12 months are there (a combined Jan-Feb counts two), so a gap never passes for a fall
    case when months_in_window = 12 then cast(exports_12m_usd as bigint) end as exports_rolling_12m_usd,
    case when months_in_window = 12 then cast(imports_12m_usd as bigint) end as imports_rolling_12m_usd,
    case when months_in_window = 12 then cast(exports_12m_usd - imports_12m_usd as bigint) end
        as balance_rolling_12m_usd,
    source,
    is_synthetic

from windowed
