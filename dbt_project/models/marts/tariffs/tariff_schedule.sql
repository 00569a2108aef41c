-- The dated tariff schedule of both sides, line by line: one row per side x tariff line x measure state (event), with
-- its rate and validity interval. Built in int_tariff_schedule from tariff_measures and the seeded line lists.
select * from {{ ref('int_tariff_schedule') }}
