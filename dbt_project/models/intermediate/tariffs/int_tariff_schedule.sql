-- Every measure state on every tariff line it names: the lists (seeded line by line), the MFN base (per line), and
-- the measures on all goods (one row, tariff_line 'ALL'). One row per side x tariff line x event (a state of a
-- measure, with its validity interval). Rates and dates come from tariff_measures only, so the events and the
-- schedule cannot disagree. See _tariffs__models.yml.
with

measures as (

    select *, instrument as authority
    from {{ ref('tariff_measures') }}
    where not is_alternative and coalesce(line_list, '') <> ''

),

list_lines as (

    select list_id, side, code, nomenclature, line_rate_pct, sources as line_sources
    from {{ ref('tariff_line_lists') }}
    union all
    select list_id, side, code, nomenclature, line_rate_pct, 'curated: ' || source
    from {{ ref('tariff_curated_lines') }}

),

listed as (

    select
        m.side as imposing_side,
        l.code as tariff_line,
        l.nomenclature,
        m.event_id,
        coalesce(l.line_rate_pct, m.rate_after) as rate_pct,
        m.date_effective as valid_from,
        m.date_end as valid_until,
        l.line_sources,
        cast(null as varchar) as line_caveat
    from measures as m
    inner join list_lines as l on l.list_id = m.line_list and l.side = m.side

),

all_goods as (

    select
        side as imposing_side,
        'ALL' as tariff_line,
        'all goods' as nomenclature,
        event_id,
        rate_after as rate_pct,
        date_effective as valid_from,
        date_end as valid_until,
        cast(null as varchar) as line_sources,
        cast(null as varchar) as line_caveat
    from measures
    where line_list = 'ALL'

),

us_mfn as (

    select
        'US' as imposing_side,
        r.hts8 as tariff_line,
        'HTS ' || r.edition as nomenclature,
        m.event_id,
        r.mfn_ad_valorem_pct as rate_pct,
        m.date_effective as valid_from,
        m.date_end as valid_until,
        'usitc_hts' as line_sources,
        case r.rate_type
            when 'specific' then 'specific duty: no ad valorem equivalent, counted as 0'
            when 'compound' then 'compound duty: its ad valorem part only'
            when 'other' then 'duty not parsed: counted as 0'
        end as line_caveat
    from {{ ref('us_mfn_rates') }} as r
    inner join measures as m on m.side = 'US' and m.line_list = 'MFN'

),

cn_mfn as (

    -- one row per line and MFN state; a state lasts until the line's next one
    select
        'CN' as imposing_side,
        r.hs10 as tariff_line,
        'CN 2018 HS10' as nomenclature,
        m.event_id,
        r.mfn_pct as rate_pct,
        r.valid_from,
        cast(lead(r.valid_from) over (partition by r.hs10 order by r.valid_from) - interval 1 day as date)
            as valid_until,
        'piie_bjz' as line_sources,
        case when r.mfn_pct is null then 'specific duty: no ad valorem rate, counted as 0' end as line_caveat
    from {{ ref('cn_mfn_rates') }} as r
    inner join measures as m
        on m.side = 'CN' and m.line_list = 'MFN' and m.date_effective = r.valid_from

),

lines as (

    select * from listed
    union all
    select * from all_goods
    union all
    select * from us_mfn
    union all
    select * from cn_mfn

)

select
    lines.imposing_side,
    lines.tariff_line,
    cast(case when lines.tariff_line = 'ALL' then 0 else length(lines.tariff_line) end as integer) as line_digits,
    lines.nomenclature,
    m.authority,
    m.measure_id,
    m.event_id,
    m.effect,
    m.exempts,
    case when m.effect = 'duty' then lines.rate_pct end as rate_pct,
    -- the share of a line's value the rate applies to: a Section 232 derivative outside its metal's chapters pays on
    -- the metal content only (an assumed share), everything else on the full value
    cast(case
        when coalesce(m.content_basis, '') = '' or lines.tariff_line = 'ALL' then 1.0
        when list_contains(case m.content_basis when 'steel' then ['72', '73'] when 'aluminium' then ['76']
                                                when 'copper' then ['74'] end, left(lines.tariff_line, 2)) then 1.0
        else {{ var('tariff_232_metal_content_share') }}
    end as double) as value_share,
    lines.valid_from,
    lines.valid_until,
    m.applied,
    m.line_list as list_id,
    m.legal_ref as legal_reference,
    lines.line_sources,
    m.source_url,
    m.confidence,
    nullif(concat_ws('; ', lines.line_caveat, m.notes), '') as caveat
from lines
inner join measures as m on m.event_id = lines.event_id
