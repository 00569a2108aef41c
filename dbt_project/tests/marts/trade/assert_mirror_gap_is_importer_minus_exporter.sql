select * from {{ ref('mirror_gap_monthly') }}
where gap_usd <> importer_reported_usd - exporter_reported_usd
