-- Where US imports from China went. For every HS6 line and month: US imports by origin (China, Vietnam, Mexico,
-- Hong Kong, the rest of the world), each origin's share of US imports of the line over the three months to the
-- month, its change since the pre-war base year and since the same three months a year earlier, China's exports
-- to those partners as China reports them, and a rerouting signal: China's share fell, a third country's rose by a
-- comparable amount, and China's exports to that country rose. HS4 and HS2 rows roll the lines up (values and
-- shares of their own; the signal as the count of flagged lines below). Method and limits: docs/diversion.md.
{# the origins of US imports (int_us_imports_by_origin's column words), the third countries judged (ISO3, word),
   the horizons (name, the reference window's column word), the destinations of China's exports shown #}
{% set origins = ['world', 'china', 'vietnam', 'mexico', 'hong_kong', 'rest'] %}
{% set thirds = [('VNM', 'vietnam'), ('MEX', 'mexico'), ('HKG', 'hong_kong')] %}
{% set horizons = [('yoy', 'year_ago_3m'), ('since_base', 'base_3m')] %}
{% set destinations = [('USA', 'us'), ('VNM', 'vietnam'), ('MEX', 'mexico'), ('HKG', 'hong_kong')] %}

with

us as (

    select * from {{ ref('int_us_imports_by_origin') }}

),

countries as (

    select iso3, country_name from {{ ref('country_codes') }}

),

descriptions as (

    -- Census's description of each code, as of its latest month
    select hs_level, hs_code, arg_max(commodity_description, period_month) as description
    from {{ ref('stg_census__imports') }}
    where hs_level in ('HS2', 'HS4', 'HS6') and census_country_code = '-'
    group by hs_level, hs_code

),

shares as (

    -- each origin's share of US imports of the code: over the three months, and over each horizon's reference
    select
        hs_level,
        hs_code,
        period_month,
        {%- for name in origins if name != 'world' %}
        100 * {{ name }}_3m_usd / nullif(world_3m_usd, 0) as {{ name }}_share_pct,
        {%- for horizon, window in horizons %}
        100 * {{ name }}_{{ window }}_usd / nullif(world_{{ window }}_usd, 0) as {{ name }}_{{ horizon }}_ref_pct,
        {%- endfor %}
        {%- endfor %}
        is_synthetic
    from us

),

china_fell as (

    -- the only HS6 rows worth a closer look: China's share fell enough on one horizon
    select us.*, shares.* exclude (hs_level, hs_code, period_month, is_synthetic)
    from us
    inner join shares
        on us.hs_level = shares.hs_level
        and us.hs_code = shares.hs_code
        and us.period_month = shares.period_month
    where us.hs_level = 'HS6'
        and (
            {%- for horizon, window in horizons %}
            shares.china_{{ horizon }}_ref_pct - shares.china_share_pct >= {{ var('diversion_min_china_drop_pts') }}
            {%- if not loop.last %} or{% endif %}
            {%- endfor %}
        )

),

by_partner_and_horizon as (

    -- one row per candidate line, month, third country and horizon: now and the reference, for China, the
    -- partner and the world
    {%- for iso3, name in thirds %}
    {%- for horizon, window in horizons %}
    select
        hs_code,
        period_month,
        '{{ iso3 }}' as partner_iso3,
        '{{ horizon }}' as horizon,
        china_share_pct,
        china_{{ horizon }}_ref_pct as china_ref_pct,
        {{ name }}_share_pct as partner_share_pct,
        {{ name }}_{{ horizon }}_ref_pct as partner_ref_pct,
        china_3m_usd,
        china_{{ window }}_usd as china_ref_3m_usd,
        {{ name }}_3m_usd as partner_3m_usd,
        {{ name }}_{{ window }}_usd as partner_ref_3m_usd,
        world_3m_usd
    from china_fell
    {% if not loop.last %}union all{% endif %}
    {%- endfor %}
    {% if not loop.last %}union all{% endif %}
    {%- endfor %}

),

china_side as (

    -- China's exports where both windows of a horizon are published
    {%- for horizon, window in horizons %}
    select
        hs_level,
        hs_code,
        partner_iso3,
        period_month,
        '{{ horizon }}' as horizon,
        value_3m_usd,
        value_{{ window }}_usd as value_ref_3m_usd
    from {{ ref('int_china_exports_by_partner') }}
    where value_3m_usd is not null and value_{{ window }}_usd is not null
    {% if not loop.last %}union all{% endif %}
    {%- endfor %}

),

candidates as (

    -- with the finest China-side evidence published for each
    select
        third.hs_code,
        third.period_month,
        third.horizon,
        third.partner_iso3,
        third.china_ref_pct - third.china_share_pct as china_drop_pts,
        third.partner_share_pct - third.partner_ref_pct as partner_gain_pts,
        third.china_ref_3m_usd - third.china_3m_usd as china_loss_3m_usd,
        third.partner_3m_usd - third.partner_ref_3m_usd as partner_gain_3m_usd,
        third.china_ref_3m_usd / 3 as china_reference_usd,
        third.world_3m_usd,
        case
            when line.hs_code is not null then 'HS6'
            when chapter.hs_code is not null then 'HS2'
            when total.hs_code is not null then 'TOTAL'
        end as evidence_level,
        case
            when line.hs_code is not null then line.value_3m_usd
            when chapter.hs_code is not null then chapter.value_3m_usd
            else total.value_3m_usd
        end as cn_exports_3m_usd,
        case
            when line.hs_code is not null then line.value_ref_3m_usd
            when chapter.hs_code is not null then chapter.value_ref_3m_usd
            else total.value_ref_3m_usd
        end as cn_exports_ref_3m_usd
    from by_partner_and_horizon as third
    left join china_side as line
        on line.hs_level = 'HS6'
        and line.hs_code = third.hs_code
        and line.partner_iso3 = third.partner_iso3
        and line.period_month = third.period_month
        and line.horizon = third.horizon
    left join china_side as chapter
        on chapter.hs_level = 'HS2'
        and chapter.hs_code = left(third.hs_code, 2)
        and chapter.partner_iso3 = third.partner_iso3
        and chapter.period_month = third.period_month
        and chapter.horizon = third.horizon
    left join china_side as total
        on total.hs_level = 'TOTAL'
        and total.partner_iso3 = third.partner_iso3
        and total.period_month = third.period_month
        and total.horizon = third.horizon

),

qualified as (

    select
        candidates.*,
        100 * (cn_exports_3m_usd / nullif(cn_exports_ref_3m_usd, 0) - 1) as cn_exports_change_pct,
        partner_gain_pts / 100 * world_3m_usd / 3 as shifted_usd
    from candidates
    where china_drop_pts >= {{ var('diversion_min_china_drop_pts') }}
        -- comparable in share and in value, both ways: a collapse lifts the others' shares without any of their
        -- trade growing, and a rise elsewhere dilutes China's share without China losing anything
        and partner_gain_pts >= {{ var('diversion_comparable_ratio') }} * china_drop_pts
        and china_loss_3m_usd > 0
        and partner_gain_3m_usd between {{ var('diversion_comparable_ratio') }} * china_loss_3m_usd
                                    and china_loss_3m_usd / {{ var('diversion_comparable_ratio') }}
        and china_reference_usd >= {{ var('diversion_min_china_usd') }}
        and evidence_level is not null
        and cn_exports_3m_usd > 0
        and cn_exports_3m_usd >= cn_exports_ref_3m_usd * (1 + {{ var('diversion_min_export_growth_pct') }} / 100)

),

described as (

    select
        qualified.*,
        case evidence_level when 'HS6' then 'high' when 'HS2' then 'medium' else 'low' end as confidence,
        countries.country_name as partner_name,
        countries.country_name || ' ' || printf('%+.1f', partner_gain_pts) || ' pts'
            as partner_gain_text,
        case evidence_level
            when 'HS6' then 'of this line (Comtrade)'
            when 'HS2' then 'of chapter ' || left(hs_code, 2) || ' (Comtrade)'
            else 'of all goods (GACC)'
        end as evidence_text
    from qualified
    inner join countries on qualified.partner_iso3 = countries.iso3

),

signals as (

    -- one signal per line and month: the recent horizon first, then the partner that gained most
    select
        hs_code,
        period_month,
        horizon,
        partner_iso3,
        partner_gain_pts,
        china_drop_pts,
        shifted_usd,
        evidence_level,
        confidence,
        cn_exports_3m_usd,
        cn_exports_change_pct,
        partner_name || ' ' || printf('%+.1f', partner_gain_pts) || ' pts'
            || coalesce(' (also ' || also || ')', '')
            || ', China ' || printf('%+.1f', -china_drop_pts) || ' pts of US imports ('
            || case horizon
                when 'yoy' then 'three months to ' || strftime(period_month, '%b %Y') || ' vs a year earlier'
                else 'vs {{ var("diversion_base_year") }}'
            end
            || '); China''s exports ' || evidence_text || ' to ' || partner_name || ' '
            || coalesce(printf('%+.0f', cn_exports_change_pct) || '%', 'up from nothing') as explanation
    from (
        select
            described.*,
            string_agg(partner_gain_text, ', ') over (
                partition by hs_code, period_month, horizon order by partner_gain_pts desc
                rows between 1 following and unbounded following
            ) as also
        from described
    )
    qualify row_number() over (
        partition by hs_code, period_month order by horizon = 'yoy' desc, partner_gain_pts desc
    ) = 1

),

rolled_up as (

    -- HS4 and HS2 rows: the flagged lines below them
    select
        levels.hs_level,
        left(signals.hs_code, levels.digits) as hs_code,
        signals.period_month,
        count(*) as rerouting_lines,
        sum(signals.shifted_usd) as shifted_usd,
        arg_max(signals.partner_iso3, signals.shifted_usd) as partner_iso3,
        arg_max(signals.horizon, signals.shifted_usd) as horizon,
        arg_max(signals.confidence, signals.shifted_usd) as confidence,
        string_agg('HS ' || signals.hs_code || ' to ' || signals.partner_iso3, ', '
                   order by signals.shifted_usd desc) as explanation
    from signals
    cross join (values ('HS4', 4), ('HS2', 2)) as levels (hs_level, digits)
    group by levels.hs_level, left(signals.hs_code, levels.digits), signals.period_month

),

china_exports as (

    -- China's exports at the row's own level, as published (Comtrade: basket HS6 lines and HS2 chapters)
    select
        hs_level,
        hs_code,
        period_month,
        {%- for iso3, name in destinations %}
        cast(max(value_usd) filter (where partner_iso3 = '{{ iso3 }}') as bigint) as cn_exports_to_{{ name }}_usd
        {%- if not loop.last %},{% endif %}
        {%- endfor %}
    from {{ ref('int_china_exports_by_partner') }}
    where hs_level in ('HS2', 'HS6')
    group by hs_level, hs_code, period_month

)

select
    us.hs_level,
    us.hs_code,
    left(us.hs_code, 2) as hs2_code,
    descriptions.description,
    us.period_month,
    {%- for name in origins %}
    cast(us.{{ name }}_usd as bigint) as us_imports_{{ name }}_usd,
    {%- endfor %}
    {%- for name in origins if name != 'world' %}
    shares.{{ name }}_share_pct,
    {%- endfor %}
    {%- for horizon in ['since_base', 'yoy'] %}
    {%- for name in origins if name != 'world' %}
    shares.{{ name }}_share_pct - shares.{{ name }}_{{ horizon }}_ref_pct as {{ name }}_share_change_{{ horizon }}_pts,
    {%- endfor %}
    {%- endfor %}
    china_exports.* exclude (hs_level, hs_code, period_month),
    coalesce(signals.hs_code, rolled_up.hs_code) is not null as rerouting_signal,
    coalesce(signals.horizon, rolled_up.horizon) as rerouting_horizon,
    coalesce(signals.partner_iso3, rolled_up.partner_iso3) as rerouting_partner_iso3,
    signals.partner_gain_pts as rerouting_partner_gain_pts,
    signals.china_drop_pts as rerouting_china_drop_pts,
    coalesce(signals.shifted_usd, rolled_up.shifted_usd) as rerouting_shifted_usd,
    signals.evidence_level as rerouting_evidence_level,
    signals.cn_exports_3m_usd as rerouting_cn_exports_3m_usd,
    signals.cn_exports_change_pct as rerouting_cn_exports_change_pct,
    coalesce(signals.confidence, rolled_up.confidence) as rerouting_confidence,
    coalesce(signals.explanation, cast(rolled_up.rerouting_lines as varchar) || ' line(s): '
             || rolled_up.explanation) as rerouting_explanation,
    cast(coalesce(rolled_up.rerouting_lines, case when signals.hs_code is not null then 1 else 0 end) as integer)
        as rerouting_lines,
    us.is_synthetic

from us
inner join shares
    on us.hs_level = shares.hs_level
    and us.hs_code = shares.hs_code
    and us.period_month = shares.period_month
left join descriptions
    on us.hs_level = descriptions.hs_level
    and us.hs_code = descriptions.hs_code
left join china_exports
    on us.hs_level = china_exports.hs_level
    and us.hs_code = china_exports.hs_code
    and us.period_month = china_exports.period_month
left join signals
    on us.hs_level = 'HS6'
    and us.hs_code = signals.hs_code
    and us.period_month = signals.period_month
left join rolled_up
    on us.hs_level = rolled_up.hs_level
    and us.hs_code = rolled_up.hs_code
    and us.period_month = rolled_up.period_month
