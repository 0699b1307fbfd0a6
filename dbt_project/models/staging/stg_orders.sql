{#- Accepted raw orders: normalised, deduplicated; rejected rows are in quarantine. -#}
with

checked as (
    select * from {{ ref('stg_orders__checked') }}
)

select order_id, customer_id, email, phone, total, currency, status, ordered_at
from checked
where reject_reason is null
