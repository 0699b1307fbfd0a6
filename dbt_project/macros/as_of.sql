{#- The instant every model is computed as of. A fixed var makes runs reproducible; without it the
    run's start time (UTC) is used, so a plain `dbt build` still answers "as of now". -#}
{% macro as_of_literal() -%}
    {%- set value = var('as_of', none) -%}
    {%- if value is none or value == '' -%}
        {{- run_started_at.strftime('%Y-%m-%d %H:%M:%S') -}}
    {%- else -%}
        {{- value | string | replace('T', ' ') | replace('Z', '') -}}
    {%- endif -%}
{%- endmacro %}

{% macro as_of() -%}
    cast('{{ as_of_literal() }}' as timestamp)
{%- endmacro %}

{#- `as_of() - N days/hours/minutes`, written once so both warehouses parse it the same way. -#}
{% macro as_of_minus(amount, unit) -%}
    ({{ as_of() }} - interval '{{ amount }} {{ unit }}')
{%- endmacro %}
