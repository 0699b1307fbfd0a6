{#- Known people who added to cart or started checkout in the last cart_abandonment_hours (and at
    least cart_abandonment_min_minutes ago, so a cart still being filled is not "abandoned") with no
    counted order since their latest cart activity. -#}
with

events as (
    select * from {{ ref('int_events__attributed') }}
    where event_type in ('add_to_cart', 'checkout_started')
        and occurred_at > {{ as_of_minus(var('cart_abandonment_hours'), 'hours') }}
        and occurred_at <= {{ as_of_minus(var('cart_abandonment_min_minutes'), 'minutes') }}
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

latest_cart as (
    select
        *,
        row_number() over (
            partition by person_id order by occurred_at desc, {{ binary_text('event_id') }} desc
        ) as cart_rank
    from events
),

abandoned as (
    select latest_cart.*
    from latest_cart
    where latest_cart.cart_rank = 1
        and not exists (
            select 1
            from orders
            where orders.person_id = latest_cart.person_id
                and orders.ordered_at >= latest_cart.occurred_at
        )
)

select
    abandoned.person_id,
    persons.first_name,
    abandoned.occurred_at as last_cart_at,
    abandoned.product_id,
    products.title as product_title
from abandoned
inner join persons
    on persons.person_id = abandoned.person_id
left join products
    on products.product_id = abandoned.product_id
