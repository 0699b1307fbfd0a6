{#- First-time buyers: exactly one counted order, placed within the last lapse_days. -#}
with

lifecycle as (
    select * from {{ ref('person_lifecycle') }}
    where lifecycle_stage = 'new'
),

persons as (
    select * from {{ ref('dim_person') }}
)

select
    lifecycle.person_id,
    persons.first_name,
    lifecycle.first_order_at,
    lifecycle.revenue
from lifecycle
inner join persons
    on persons.person_id = lifecycle.person_id
