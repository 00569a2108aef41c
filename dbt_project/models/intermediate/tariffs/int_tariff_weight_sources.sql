-- Every set of trade weights the warehouse could weight tariff lines with, one row per side x year x level x code:
-- line values (US HS10 from China, China HS8 from the US) and chapter totals (HS2), from the warehouse's own
-- published, non-synthetic imports (source_rank 1: Census HS10 by year, Census HS2 chapters, Comtrade HS2 chapters)
-- and from the real reference data seeded with the project (source_rank 2). Synthetic sample data never weights a
-- tariff: the demo runs on the reference weights. int_tariff_weights chooses among these.
with

-- Census HS10 imports from China for every chapter, by calendar year (the December release's year to date)
warehouse_hs10 as (

    select year, hs10, consumption_imports_usd
    from {{ ref('stg_census__imports_hs10_annual') }}
    where partner_iso3 = 'CHN' and not is_synthetic

),

warehouse_us_chapters as (

    -- complete calendar years of published Census HS2 imports from China
    {{ annual_chapter_totals(ref('int_us_trade_lines_unioned'), 'consumption_imports_usd',
        "partner_iso3 = 'CHN' and flow = 'import' and hs_level = 'HS2' and not is_synthetic", 12) }}

),

warehouse_cn_chapters as (

    -- (nearly) complete calendar years of China-reported imports from the US by chapter (UN Comtrade)
    {{ annual_chapter_totals(ref('stg_comtrade__cn_trade'), 'value_usd',
        "partner_iso3 = 'USA' and flow = 'import' and hs_level = 'HS2' and not is_synthetic", 11) }}

)

select 'US' as side, year, 'line' as level, hs10 as code, cast(consumption_imports_usd as double) as value_usd,
       1 as source_rank, 'warehouse: Census HS10 imports for consumption from China' as source
from warehouse_hs10

union all

select 'US', 2024, 'line', hs10, cast(consumption_imports_usd as double),
       2, 'reference: Census HS10 imports for consumption from China, 2024 (seed us_imports_from_china_hs10_2024)'
from {{ ref('us_imports_from_china_hs10_2024') }}

union all

select 'US', year, 'chapter', hs2, cast(value_usd as double), 1, 'warehouse: Census HS2 imports for consumption from China'
from warehouse_us_chapters

union all

select 'US', year, 'chapter', hs2, cast(consumption_imports_usd as double),
       2, 'reference: Census HS2 imports for consumption from China (seed us_imports_from_china_hs2_annual'
           || case when months < 12 then ', ' || months || ' months only' else '' end || ')'
from {{ ref('us_imports_from_china_hs2_annual') }}

union all

select 'CN', 2017, 'line', hs8, cast(imports_usd as double),
       2, 'reference: China''s imports from the US by HS8, 2017 (PIIE, seed cn_imports_from_us_hs8_2017)'
from {{ ref('cn_imports_from_us_hs8_2017') }}

union all

select 'CN', year, 'chapter', hs2, cast(value_usd as double), 1, 'warehouse: UN Comtrade China imports from the US by HS2'
from warehouse_cn_chapters
