{#- Lines of the orders that count (placed, at or before as_of), with the person and the product. -#}
with

orders as (
    select * from {{ ref('int_orders__attributed') }}
),

items as (
    select * from {{ ref('stg_order_items') }}
),

products as (
    select * from {{ ref('stg_products') }}
)

select
    orders.person_id,
    orders.order_id,
    orders.ordered_at,
    items.line_number,
    items.product_id,
    items.quantity,
    products.title as product_title,
    products.category,
    products.replenishment_days
from orders
inner join items
    on items.order_id = orders.order_id
left join products
    on products.product_id = items.product_id
