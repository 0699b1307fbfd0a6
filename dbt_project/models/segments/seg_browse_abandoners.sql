{#- Known people who viewed a product in the last browse_abandonment_hours (at least
    browse_abandonment_min_minutes ago) and since their latest view neither added to cart, started
    checkout nor ordered. -#}
with

events as (
    select * from {{ ref('int_events__attributed') }}
),

orders as (
    select * from {{ ref('int_orders__attributed') }}
),

persons as (
    select * from {{ ref('dim_person') }}
    where is_known
),

products as (
    select * from {{ ref('stg_products') }}
),

latest_view as (
    select
        *,
        row_number() over (
            partition by person_id order by occurred_at desc, {{ binary_text('event_id') }} desc
        ) as view_rank
    from events
    where event_type = 'product_view'
        and occurred_at > {{ as_of_minus(var('browse_abandonment_hours'), 'hours') }}
        and occurred_at <= {{ as_of_minus(var('browse_abandonment_min_minutes'), 'minutes') }}
),

abandoned as (
    select latest_view.*
    from latest_view
    where latest_view.view_rank = 1
        and not exists (
            select 1
            from events as later
            where later.person_id = latest_view.person_id
                and later.event_type in ('add_to_cart', 'checkout_started')
                and later.occurred_at >= latest_view.occurred_at
        )
        and not exists (
            select 1
            from orders
            where orders.person_id = latest_view.person_id
                and orders.ordered_at >= latest_view.occurred_at
        )
)

select
    abandoned.person_id,
    persons.first_name,
    abandoned.occurred_at as last_viewed_at,
    abandoned.product_id,
    products.title as product_title
from abandoned
inner join persons
    on persons.person_id = abandoned.person_id
left join products
    on products.product_id = abandoned.product_id
