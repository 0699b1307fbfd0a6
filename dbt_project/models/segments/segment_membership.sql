{#- Every segment's members in one table (DESIGN §4), generated from the seg_* models and their
    meta.cohortflow; adding a segment needs no edit here. -#}
{%- for name in segment_model_names() %}
-- depends_on: {{ ref(name) }}
{%- endfor %}
-- depends_on: {{ ref('dim_person') }}

with

members as (
    {{ segment_membership_sql(segment_model_names()) }}
)

select
    segment,
    person_id,
    email,
    phone,
    traits,
    md5(traits) as traits_hash
from members
