-- US imports of every HS2, HS4 and HS6 code by country of origin, one row per code and month (Census general
-- imports): the world, China, Vietnam, Mexico, Hong Kong, and the rest of the world (the world minus the four). Every
-- code has every month (Census omits empty cells: they are zero). Each origin over the rerouting monitor's windows:
-- the three months to the month, the same three months a year earlier, and the base year as a three-month
-- equivalent (its total / 4; null without all twelve months). A table: the mart reads it whole.
{{ config(materialized='table') }}
{% set origins = ['world', 'china', 'vietnam', 'mexico', 'hong_kong', 'rest'] %}
{% set partners = [('WLD', 'world'), ('CHN', 'china'), ('VNM', 'vietnam'), ('MEX', 'mexico'), ('HKG', 'hong_kong')] %}

with

lines as (

    select
        hs_level,
        hs_code,
        period_month,
        {%- for iso3, name in partners %}
        sum(value_usd) filter (where partner_iso3 = '{{ iso3 }}') as {{ name }}_usd,
        {%- endfor %}
        bool_or(is_synthetic) as is_synthetic
    from {{ ref('int_us_trade_lines_unioned') }}
    where flow = 'import'
        and hs_level in ('HS2', 'HS4', 'HS6')
        and partner_iso3 in ('WLD', 'CHN', 'VNM', 'MEX', 'HKG')
    group by hs_level, hs_code, period_month

),

codes as (

    select distinct hs_level, hs_code from lines where world_usd is not null

),

months as (

    select period_month, bool_or(is_synthetic) as is_synthetic
    from lines
    where world_usd is not null
    group by period_month

),

dense as (

    select
        codes.hs_level,
        codes.hs_code,
        months.period_month,
        {%- for iso3, name in partners %}
        coalesce(lines.{{ name }}_usd, 0) as {{ name }}_usd,
        {%- endfor %}
        months.is_synthetic
    from codes
    cross join months
    left join lines
        on codes.hs_level = lines.hs_level
        and codes.hs_code = lines.hs_code
        and months.period_month = lines.period_month

),

with_rest as (

    select
        *,
        world_usd - china_usd - vietnam_usd - mexico_usd - hong_kong_usd as rest_usd
    from dense

),

windowed as (

    select
        *,
        {%- for name in origins %}
        {{ three_month_sum(name ~ '_usd', 'hs_level, hs_code') }} as {{ name }}_3m_usd
        {%- if not loop.last %},{% endif %}
        {%- endfor %}
    from with_rest

),

base_year as (

    select
        hs_level,
        hs_code,
        {%- for name in origins %}
        sum({{ name }}_usd) / 4 as {{ name }}_base_3m_usd
        {%- if not loop.last %},{% endif %}
        {%- endfor %}
    from with_rest
    where year(period_month) = {{ var('diversion_base_year') }}
    group by hs_level, hs_code
    having count(*) = 12

)

select
    windowed.hs_level,
    windowed.hs_code,
    windowed.period_month,
    {%- for name in origins %}
    cast(windowed.{{ name }}_usd as double) as {{ name }}_usd,
    cast(windowed.{{ name }}_3m_usd as double) as {{ name }}_3m_usd,
    cast(year_ago.{{ name }}_3m_usd as double) as {{ name }}_year_ago_3m_usd,
    cast(base_year.{{ name }}_base_3m_usd as double) as {{ name }}_base_3m_usd,
    {%- endfor %}
    windowed.is_synthetic

from windowed
left join windowed as year_ago
    on windowed.hs_level = year_ago.hs_level
    and windowed.hs_code = year_ago.hs_code
    and year_ago.period_month = cast(windowed.period_month - interval 12 month as date)
left join base_year
    on windowed.hs_level = base_year.hs_level
    and windowed.hs_code = base_year.hs_code
