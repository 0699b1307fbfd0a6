{#- Builds segment_membership: one row per (segment, person) from every seg_* model, with the
    person's email and phone and the segment's traits as canonical JSON text. -#}

{#- The seg_* models dbt knows about right now (from the manifest, at execution time). -#}
{% macro discovered_segment_models() -%}
    {%- set names = [] -%}
    {%- for node in graph.nodes.values() -%}
        {%- if node.resource_type == 'model' and node.package_name == project_name
            and node.name.startswith('seg_') -%}
            {%- do names.append(node.name) -%}
        {%- endif -%}
    {%- endfor -%}
    {{ return(names | sort) }}
{%- endmacro %}

{#- meta.cohortflow of a segment model, wherever this dbt version keeps it. -#}
{% macro segment_meta(name) -%}
    {%- for node in graph.nodes.values() if node.resource_type == 'model' and node.name == name -%}
        {%- set meta = node.config.get('meta', {}) or node.get('meta', {}) -%}
        {{ return(meta.get('cohortflow', {})) }}
    {%- endfor -%}
    {{ return({}) }}
{%- endmacro %}

{#- One column's value as JSON text; identical on every warehouse so traits_hash is too. -#}
{% macro trait_json_value(column, table_alias) -%}
    {%- set dtype = column.dtype | lower -%}
    {%- set expr = table_alias ~ '.' ~ adapter.quote(column.name) -%}
    {%- if 'timestamp' in dtype or dtype == 'date' -%}
        {{ json_string(iso_timestamp(expr)) }}
    {%- elif 'bool' in dtype -%}
        case when {{ expr }} then 'true' else 'false' end
    {%- elif dtype.split('(')[0] in ('tinyint', 'smallint', 'integer', 'int', 'bigint', 'hugeint', 'int2',
            'int4', 'int8', 'decimal', 'numeric', 'double', 'double precision', 'real', 'float', 'float4',
            'float8') -%}
        cast({{ expr }} as {{ dbt.type_string() }})
    {%- else -%}
        {{ json_string(expr) }}
    {%- endif -%}
{%- endmacro %}

{#- {"trait": value, ...} with keys sorted, nulls as null. -#}
{% macro traits_json(columns, table_alias) -%}
    {%- if columns | length == 0 -%}
        '{}'
    {%- else -%}
        '{' ||
        {%- for column in columns | sort(attribute='name') %}
        '{{ '"' ~ column.name ~ '":' }}' || coalesce({{ trait_json_value(column, table_alias) }}, 'null')
            {%- if not loop.last %} || ',' ||{% endif %}
        {%- endfor %}
        || '}'
    {%- endif -%}
{%- endmacro %}

{% macro segment_membership_sql(registered) -%}
    {%- if not execute -%}
        {{ return("select 1 as parse_placeholder") }}
    {%- endif -%}

    {%- set discovered = discovered_segment_models() -%}
    {%- if discovered != (registered | sort) -%}
        {{ exceptions.raise_compiler_error(
            "segment_membership is out of date: seg_* models are " ~ discovered | join(', ')
            ~ " but macros/segment_registry.sql lists " ~ registered | sort | join(', ')
            ~ ". Run `cohortflow segments refresh` (cohortflow run does this for you).") }}
    {%- endif -%}

    {%- for name in discovered %}
        {%- set relation = ref(name) -%}
        {%- set columns = adapter.get_columns_in_relation(relation) -%}
        {%- set by_name = {} -%}
        {%- for column in columns -%}{%- do by_name.update({column.name | lower: column}) -%}{%- endfor -%}
        {%- if 'person_id' not in by_name -%}
            {{ exceptions.raise_compiler_error(name ~ " must select a person_id column.") }}
        {%- endif -%}
        {%- set wanted = segment_meta(name).get('traits') -%}
        {%- set traits = [] -%}
        {%- if wanted is none -%}
            {%- for column in columns if column.name | lower != 'person_id' -%}
                {%- do traits.append(column) -%}
            {%- endfor -%}
        {%- else -%}
            {%- for trait in wanted -%}
                {%- if trait | lower not in by_name -%}
                    {{ exceptions.raise_compiler_error(
                        name ~ " lists trait '" ~ trait ~ "' in meta.cohortflow.traits but does not select it. "
                        ~ "Selected columns: " ~ by_name.keys() | list | sort | join(', ')) }}
                {%- endif -%}
                {%- do traits.append(by_name[trait | lower]) -%}
            {%- endfor -%}
        {%- endif %}
    select
        '{{ name[4:] }}' as segment,
        segment_rows.person_id,
        persons.email,
        persons.phone,
        {{ traits_json(traits, 'segment_rows') }} as traits
    from {{ relation }} as segment_rows
    inner join {{ ref('dim_person') }} as persons
        on persons.person_id = segment_rows.person_id
        {%- if not loop.last %}
    union all
        {%- endif %}
    {%- endfor %}
{%- endmacro %}
