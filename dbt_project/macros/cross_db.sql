{#- Helpers whose SQL differs between DuckDB and PostgreSQL. Each has a default__ version
    (PostgreSQL syntax, also what most warehouses accept) and an override where DuckDB differs. -#}

{#- True when `expr` matches the whole regular expression `pattern`. -#}
{% macro regex_full_match(expr, pattern) -%}
    {{ return(adapter.dispatch('regex_full_match', 'cohortflow')(expr, pattern)) }}
{%- endmacro %}
{% macro default__regex_full_match(expr, pattern) -%}
    ({{ expr }} ~ '^(?:{{ pattern }})$')
{%- endmacro %}
{% macro duckdb__regex_full_match(expr, pattern) -%}
    regexp_full_match({{ expr }}, '{{ pattern }}')
{%- endmacro %}

{#- A text value as a JSON string literal (quotes and escapes included). -#}
{% macro json_string(expr) -%}
    {{ return(adapter.dispatch('json_string', 'cohortflow')(expr)) }}
{%- endmacro %}
{% macro default__json_string(expr) -%}
    to_json(cast({{ expr }} as text))::text
{%- endmacro %}
{% macro duckdb__json_string(expr) -%}
    cast(to_json(cast({{ expr }} as varchar)) as varchar)
{%- endmacro %}

{#- A timestamp as ISO-8601 UTC text, e.g. 2026-06-30T12:00:00Z: the same text on every warehouse
    so a trait hashes identically wherever it was computed. -#}
{% macro iso_timestamp(expr) -%}
    {{ return(adapter.dispatch('iso_timestamp', 'cohortflow')(expr)) }}
{%- endmacro %}
{% macro default__iso_timestamp(expr) -%}
    to_char({{ expr }}, 'YYYY-MM-DD"T"HH24:MI:SS"Z"')
{%- endmacro %}
{% macro duckdb__iso_timestamp(expr) -%}
    strftime({{ expr }}, '%Y-%m-%dT%H:%M:%SZ')
{%- endmacro %}

{#- Text compared byte by byte, whatever the database's collation: identifiers sort the same on
    every warehouse, so person_id and tie-breaks never depend on a locale (PostgreSQL databases
    often default to en_US, where 'alice' sorts before 'Zed'; DuckDB compares bytes). -#}
{% macro binary_text(expr) -%}
    {{ return(adapter.dispatch('binary_text', 'cohortflow')(expr)) }}
{%- endmacro %}
{% macro default__binary_text(expr) -%}
    ({{ expr }} collate "C")
{%- endmacro %}
{% macro duckdb__binary_text(expr) -%}
    {{ expr }}
{%- endmacro %}
