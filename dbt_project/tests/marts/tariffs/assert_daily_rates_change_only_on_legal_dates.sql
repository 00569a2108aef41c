-- The fixed-weight series has a state only from 1 January 2018, on the dates a measure starts or ends and where the
-- base year changes (var tariff_fixed_weight_years) - so never on a 1 January without a measure; the
-- previous-year series may add every 1 January (its weights change then).
with

legal as (

    select side as imposing_side, date_effective as change_date from {{ ref('tariff_measures') }}
    where applied and not is_alternative and coalesce(line_list, '') <> ''
    union
    select side, cast(date_end + interval 1 day as date) from {{ ref('tariff_measures') }}
    where applied and not is_alternative and coalesce(line_list, '') <> '' and date_end is not null
    union
    select imposing_side, valid_from from {{ ref('int_tariff_weights') }} where weighting = 'fixed_base_year'

)

select d.imposing_side, d.weighting, d.hs_level, d.hs_code, d.change_date
from {{ ref('tariff_rates_daily') }} as d
anti join legal as l on l.imposing_side = d.imposing_side and l.change_date = d.change_date
where d.weighting = 'fixed_base_year'
    or not (month(d.change_date) = 1 and day(d.change_date) = 1)
