{#- Orders that count for lifecycle and RFM (status 'placed', ordered at or before as_of; staging
    already removed duplicate rows), each attributed to a person. Every identifier on an order row
    belongs to the same person unless it is shared, so the customer id is tried first, then email,
    then phone. `was_vip_then` says whether the person met the VIP rule at the moment of this order. -#}
with

orders as (
    select * from {{ ref('stg_orders') }}
),

identifiers as (
    select * from {{ ref('person_identifiers') }}
),

counted as (
    select
        orders.order_id,
        coalesce(by_customer.person_id, by_email.person_id, by_phone.person_id) as person_id,
        orders.total,
        orders.ordered_at
    from orders
    left join identifiers as by_customer
        on by_customer.identifier_type = 'customer_id'
        and by_customer.identifier_value = orders.customer_id
    left join identifiers as by_email
        on by_email.identifier_type = 'email'
        and by_email.identifier_value = orders.email
    left join identifiers as by_phone
        on by_phone.identifier_type = 'phone'
        and by_phone.identifier_value = orders.phone
    where orders.status = 'placed'
        and orders.ordered_at <= {{ as_of() }}
),

windowed as (
    select
        *,
        count(*) over (
            partition by person_id
            order by ordered_at
            range between interval '{{ var("vip_window_days") }} days' preceding and current row
        ) as orders_in_window_then,
        sum(total) over (
            partition by person_id
            order by ordered_at
            range between interval '{{ var("vip_window_days") }} days' preceding and current row
        ) as revenue_in_window_then
    from counted
)

select
    order_id,
    person_id,
    total,
    ordered_at,
    (
        orders_in_window_then >= {{ var('vip_min_orders') }}
        or revenue_in_window_then >= {{ var('vip_min_revenue') }}
    ) as was_vip_then
from windowed
