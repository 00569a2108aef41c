{#- Use the configured schema as is (raw, staging, intermediate, marts, reference), not dbt's
    default `<target_schema>_<custom_schema>`: BI users depend on these names. -#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {%- if custom_schema_name is none -%}
        {{ target.schema }}
    {%- else -%}
        {{ custom_schema_name | trim }}
    {%- endif -%}
{%- endmacro %}
