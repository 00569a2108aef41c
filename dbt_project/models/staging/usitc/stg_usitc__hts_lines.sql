-- The HTS revision in force (the newest visible release), with ten-digit statistical lines inheriting the
-- general rate of their eight-digit parent, the ad valorem part of simple rates parsed, and, for Chapter 99
-- headings, the additional duty they add ("... + 25%").
with

latest as (

    select release_id, synthetic
    from {{ source('audit', 'releases') }}
    where dataset = 'usitc_hts_lines' and status in ('published', 'released')
    qualify row_number() over (order by period desc, vintage desc) = 1

),

lines as (

    select lines.*, latest.synthetic
    from {{ source('usitc', 'usitc_hts_lines') }} as lines
    inner join latest on lines.release_id = latest.release_id

),

with_parent as (

    select
        lines.*,
        coalesce(nullif(lines.general_rate, ''), parent.general_rate) as general_rate_in_force
    from lines
    left join lines as parent
        on length(lines.htsno) = 13 and parent.htsno = left(lines.htsno, 10)

)

select
    hts_revision,
    htsno,
    replace(htsno, '.', '') as hts_digits,
    left(replace(htsno, '.', ''), 2) as hs_chapter,
    indent,
    description,
    is_label,
    units,
    general_rate_in_force as general_rate,
    case
        when general_rate_in_force = 'Free' then 0.0
        when regexp_full_match(general_rate_in_force, '[0-9]+(\.[0-9]+)?%')
            then cast(replace(general_rate_in_force, '%', '') as double)
    end as general_ad_valorem_pct,
    case
        when htsno like '9903.%'
            then cast(nullif(regexp_extract(general_rate, '\+\s*([0-9]+(\.[0-9]+)?)%', 1), '') as double)
    end as additional_duty_pct,
    chapter99_refs,
    footnotes,
    release_id,
    synthetic as is_synthetic

from with_parent
where htsno <> ''
