{#- Every raw order line with the reason it is rejected (null = kept). -#}
with

source as (
    select * from {{ source('raw', 'order_items') }}
),

normalised as (
    select
        {{ clean_text('order_id') }} as order_id,
        line_number,
        {{ clean_text('product_id') }} as product_id,
        quantity,
        unit_price
    from source
),

ranked as (
    select
        *,
        row_number() over (
            partition by order_id, line_number
            order by
                {{ binary_text('product_id') }} nulls last,
                quantity desc nulls last,
                unit_price desc nulls last
        ) as copy_number
    from normalised
)

select
    *,
    case
        when order_id is null or line_number is null then 'missing_key'
        when copy_number > 1 then 'duplicate_key'
        when product_id is null then 'missing_product'
        when quantity is null or quantity <= 0 then 'invalid_quantity'
    end as reject_reason
from ranked
