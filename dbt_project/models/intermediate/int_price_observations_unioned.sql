-- Every publisher's price observations on one grain: source series x month.
with

bls as (

    select period_month, source_series_id, index_value, is_preliminary, is_synthetic
    from {{ ref('stg_bls__observations') }}

),

nbs as (

    select period_month, source_series_id, index_value, false as is_preliminary, is_synthetic
    from {{ ref('stg_nbs__price_indexes') }}

)

select * from bls
union all
select * from nbs
