{{ config(materialized='table') }}
-- Stacking, by the legal rules, line by line: the state of every tariff line between two of its change dates.
-- This is the one place the rules are applied (tariff_stacking_rules says them, per side and authority), to the
-- schedule rows that cover each line (int_tariff_line_events):
--   1. an exemption in force (Annex II, the electronics exclusion, the Section 122 annex, China's 2019 auto
--      suspension, ...) lifts the duties of the authorities or measures it names;
--   2. within an authority: 'highest' (Section 301: a line on several lists, or a 2024-review heading, pays the
--      highest rate, which replaces the list rate; Section 232: no stacking of steel, aluminium, autos, copper) or
--      'sum' (China's retaliation, calculated in aggregate; the US fentanyl tariff; Section 201);
--   3. an authority marked not_with another does not apply to the share of the line's value the other covers (no
--      reciprocal tariff and no Section 122 surcharge on goods paying a Section 232 duty; for a Section 232
--      derivative that pays on its metal content only, the rest of the value still pays them);
--   4. a rate counts on the share of the value it applies to (value_share: 1, or the metal content of a Section
--      232 derivative outside its metal's chapters); additional = the sum over authorities other than MFN;
--      total = MFN + additional.
-- States are computed only at each line's change dates (the union of its rows' interval boundaries).
with

line_rows as (

    select * from {{ ref('int_tariff_line_events') }}

),

rules as (

    select * from {{ ref('tariff_stacking_rules') }}

),

bounds as (

    select imposing_side, tariff_line, valid_from as boundary from line_rows
    union
    select imposing_side, tariff_line, cast(valid_until + interval 1 day as date) from line_rows
    where valid_until is not null

),

intervals as (

    select
        imposing_side,
        tariff_line,
        boundary as valid_from,
        cast(lead(boundary) over (partition by imposing_side, tariff_line order by boundary) - interval 1 day as date)
            as valid_until
    from bounds

),

active as (

    select i.imposing_side, i.tariff_line, i.valid_from as state_from, i.valid_until as state_until, r.*
        exclude (imposing_side, tariff_line, valid_from, valid_until)
    from intervals as i
    inner join line_rows as r
        on r.imposing_side = i.imposing_side
        and r.tariff_line = i.tariff_line
        and r.valid_from <= i.valid_from
        and (r.valid_until is null or r.valid_until >= i.valid_from)

),

exempted as (

    -- what the exemptions in force lift: authority names and measure ids
    select imposing_side, tariff_line, state_from,
           flatten(list(string_split(exempts, ';'))) as lifted,
           string_agg(distinct measure_id, ',' order by measure_id) as exemptions
    from active
    where effect = 'exemption'
    group by all

),

duties as (

    select a.*, e.exemptions
    from active as a
    left join exempted as e
        on e.imposing_side = a.imposing_side and e.tariff_line = a.tariff_line and e.state_from = a.state_from
    where a.effect = 'duty'
        and not coalesce(list_contains(e.lifted, a.authority) or list_contains(e.lifted, a.measure_id), false)

),

per_authority as (

    select
        d.imposing_side, d.tariff_line, d.state_from, d.authority,
        any_value(d.hs_chapter) as hs_chapter,
        any_value(d.state_until) as state_until,
        any_value(rules.not_with) as not_with,
        case when any_value(rules.combine) = 'sum' then sum(d.rate_pct * coalesce(d.value_share, 1))
             else max(d.rate_pct * coalesce(d.value_share, 1)) end as rate_pct,
        -- the share of the value the authority covers (to lift what may not stack on it)
        max(coalesce(d.value_share, 1)) filter (where d.rate_pct > 0) as covered_share,
        any_value(d.exemptions) as exemptions
    from duties as d
    inner join rules on rules.side = d.imposing_side and rules.instrument = d.authority
    group by d.imposing_side, d.tariff_line, d.state_from, d.authority

),

stacked as (

    select a.*, coalesce(b.covered_share, 0) as lifted_share
    from per_authority as a
    left join per_authority as b
        on b.imposing_side = a.imposing_side and b.tariff_line = a.tariff_line and b.state_from = a.state_from
        and b.authority = a.not_with and b.rate_pct > 0

)

select
    imposing_side,
    tariff_line,
    any_value(hs_chapter) as hs_chapter,
    state_from as valid_from,
    any_value(state_until) as valid_until,
    max(rate_pct) filter (where authority = 'mfn') as mfn_rate_pct,
    coalesce(sum(rate_pct * (1 - lifted_share)) filter (where authority <> 'mfn'), 0) as additional_rate_pct,
    max(rate_pct) filter (where authority = 'mfn')
        + coalesce(sum(rate_pct * (1 - lifted_share)) filter (where authority <> 'mfn'), 0) as total_rate_pct,
    max(rate_pct) filter (where authority = 's301') as s301_rate_pct,
    max(rate_pct) filter (where authority = 's232') as s232_rate_pct,
    max(covered_share) filter (where authority = 's232') as s232_value_share,
    max(rate_pct) filter (where authority = 's201') as s201_rate_pct,
    max(rate_pct) filter (where authority = 'ieepa_fent') as fentanyl_rate_pct,
    max(rate_pct * (1 - lifted_share)) filter (where authority = 'ieepa_recip') as reciprocal_rate_pct,
    max(rate_pct * (1 - lifted_share)) filter (where authority = 's122') as s122_rate_pct,
    max(rate_pct) filter (where authority = 'retaliation') as retaliation_rate_pct,
    any_value(exemptions) as exemptions_in_force
from stacked
group by imposing_side, tariff_line, state_from
