-- Announced no later than effective, effective no later than the end; a rate change has both rates.
select *
from {{ ref('tariff_measures') }}
where date_announced > date_effective
   or date_effective > date_end
   or (rate_after is not null and rate_unit is null)
