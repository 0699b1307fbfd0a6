{#- Each person's lifecycle stage as of `as_of` (DESIGN §4), first matching rule wins:
    visitor (only anonymous ids), prospect (no counted order), churned (last order before
    as_of - churn_days), lapsed (before as_of - lapse_days), vip (>= vip_min_orders orders or
    >= vip_min_revenue revenue in the vip_window_days up to and including as_of), repeat (>= 2
    orders), new (exactly 1). "Before" is strict: an order exactly 90 days old is not lapsed. -#}
with

persons as (
    select * from {{ ref('dim_person') }}
),

orders as (
    select * from {{ ref('int_orders__attributed') }}
),

order_stats as (
    select
        person_id,
        count(*) as orders_count,
        sum(total) as revenue,
        min(ordered_at) as first_order_at,
        max(ordered_at) as last_order_at,
        count(case when ordered_at >= {{ as_of_minus(var('vip_window_days'), 'days') }} then 1 end)
            as orders_last_year,
        sum(case when ordered_at >= {{ as_of_minus(var('vip_window_days'), 'days') }} then total end)
            as revenue_last_year,
        max(case when was_vip_then then 1 else 0 end) = 1 as was_ever_vip
    from orders
    group by person_id
),

joined as (
    select
        persons.person_id,
        persons.is_known,
        coalesce(order_stats.orders_count, 0) as orders_count,
        coalesce(order_stats.revenue, 0) as revenue,
        order_stats.first_order_at,
        order_stats.last_order_at,
        coalesce(order_stats.orders_last_year, 0) as orders_last_year,
        coalesce(order_stats.revenue_last_year, 0) as revenue_last_year,
        coalesce(order_stats.was_ever_vip, false) as was_ever_vip
    from persons
    left join order_stats
        on order_stats.person_id = persons.person_id
)

select
    person_id,
    case
        when not is_known then 'visitor'
        when orders_count = 0 then 'prospect'
        when last_order_at < {{ as_of_minus(var('churn_days'), 'days') }} then 'churned'
        when last_order_at < {{ as_of_minus(var('lapse_days'), 'days') }} then 'lapsed'
        when orders_last_year >= {{ var('vip_min_orders') }}
            or revenue_last_year >= {{ var('vip_min_revenue') }} then 'vip'
        when orders_count >= 2 then 'repeat'
        else 'new'
    end as lifecycle_stage,
    orders_count,
    revenue,
    first_order_at,
    last_order_at,
    orders_last_year,
    revenue_last_year,
    was_ever_vip,
    {{ as_of() }} as as_of
from joined
