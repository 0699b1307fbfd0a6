{#- Current VIPs: lifecycle stage 'vip'. -#}
with

lifecycle as (
    select * from {{ ref('person_lifecycle') }}
    where lifecycle_stage = 'vip'
),

persons as (
    select * from {{ ref('dim_person') }}
)

select
    lifecycle.person_id,
    persons.first_name,
    lifecycle.orders_count,
    lifecycle.revenue,
    lifecycle.last_order_at
from lifecycle
inner join persons
    on persons.person_id = lifecycle.person_id
