{#- Custom schemas are used verbatim (`staging`, `analytics`), not prefixed with the target schema,
    so analysts query `analytics.person_lifecycle` on every warehouse. -#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {%- if custom_schema_name is none -%}{{ target.schema }}{%- else -%}{{ custom_schema_name | trim }}{%- endif -%}
{%- endmacro %}
