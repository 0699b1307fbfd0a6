{#- Buyers of a consumable whose replenishment window has passed with no re-order of that product:
    last purchase + replenishment_days is before as_of, and at most replenishment_max_overdue_days
    ago (older than that is a lapse, not a refill). One row per person: the product due most recently. -#}
with

items as (
    select * from {{ ref('int_order_items__attributed') }}
    where replenishment_days is not null
),

persons as (
    select * from {{ ref('dim_person') }}
    where is_known
),

last_purchases as (
    select
        person_id,
        product_id,
        product_title,
        replenishment_days,
        max(ordered_at) as last_bought_at
    from items
    group by person_id, product_id, product_title, replenishment_days
),

due as (
    select
        *,
        last_bought_at + interval '1 day' * replenishment_days as due_at
    from last_purchases
),

overdue as (
    select
        *,
        row_number() over (partition by person_id order by due_at desc, {{ binary_text('product_id') }}) as due_rank
    from due
    where due_at < {{ as_of() }}
        and due_at >= {{ as_of_minus(var('replenishment_max_overdue_days'), 'days') }}
)

select
    overdue.person_id,
    persons.first_name,
    overdue.product_id,
    overdue.product_title,
    overdue.last_bought_at,
    overdue.due_at
from overdue
inner join persons
    on persons.person_id = overdue.person_id
where overdue.due_rank = 1
