{#- The releases of `dataset` that staging may read: published, or released by an operator after quarantine.
    With latest_per_period, only the newest vintage of each period (Census, GACC, Comtrade); without it every
    visible release (BLS, NBS and the HTS, whose newer releases carry revised values of earlier months). -#}
{% macro visible_releases(dataset, latest_per_period=true) %}
    select release_id, period as release_period, vintage, synthetic
    from {{ source('audit', 'releases') }}
    where dataset = '{{ dataset }}' and status in ('published', 'released')
    {% if latest_per_period %}
    qualify row_number() over (partition by period order by vintage desc) = 1
    {% endif %}
{% endmacro %}
