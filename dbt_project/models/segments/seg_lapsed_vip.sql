{#- Former VIPs who have lapsed: stage 'lapsed' now, and at the moment of some past order they met
    the VIP rule (>= vip_min_orders orders or >= vip_min_revenue in the vip_window_days before it).
    Decided from the order history, so it is right on the first run, with no stage history needed. -#}
with

lifecycle as (
    select * from {{ ref('person_lifecycle') }}
    where lifecycle_stage = 'lapsed'
        and was_ever_vip
),

persons as (
    select * from {{ ref('dim_person') }}
),

categories as (
    select * from {{ ref('int_person__favourite_category') }}
)

select
    lifecycle.person_id,
    persons.first_name,
    lifecycle.last_order_at,
    lifecycle.revenue,
    categories.favourite_category
from lifecycle
inner join persons
    on persons.person_id = lifecycle.person_id
left join categories
    on categories.person_id = lifecycle.person_id
