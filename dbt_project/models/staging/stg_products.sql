{#- Accepted raw products: normalised, deduplicated; rejected rows are in quarantine. -#}
with

checked as (
    select * from {{ ref('stg_products__checked') }}
)

select product_id, title, category, price, replenishment_days
from checked
where reject_reason is null
