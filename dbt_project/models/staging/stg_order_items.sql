{#- Accepted raw order_items: normalised, deduplicated; rejected rows are in quarantine. -#}
with

checked as (
    select * from {{ ref('stg_order_items__checked') }}
)

select order_id, line_number, product_id, quantity, unit_price
from checked
where reject_reason is null
