-- China-reported trade from UN Comtrade, latest visible vintage of each month. primary_value is FOB for exports
-- and CIF for imports, in US dollars.
with

releases as (

    {{ visible_releases('comtrade_cn_monthly') }}

),

records as (

    select * from {{ source('comtrade', 'comtrade_cn_monthly') }}

)

select
    records.period as period_month,
    'CHN' as reporter_iso3,
    records.partner_iso3,
    case records.flow_code when 'X' then 'export' when 'M' then 'import' end as flow,
    case when records.cmd_code = 'TOTAL' then 'TOTAL' else 'HS' || length(records.cmd_code) end as hs_level,
    records.cmd_code as hs_code,
    records.primary_value as value_usd,
    records.net_weight_kg,
    records.qty,
    records.qty_unit,
    records.classification_code,
    records.release_id,
    releases.vintage,
    releases.synthetic as is_synthetic

from records
inner join releases on records.release_id = releases.release_id
