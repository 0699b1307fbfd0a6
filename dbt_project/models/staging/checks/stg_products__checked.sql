{#- Every raw product row with the reason it is rejected (null = kept). -#}
with

source as (
    select * from {{ source('raw', 'products') }}
),

normalised as (
    select
        {{ clean_text('product_id') }} as product_id,
        {{ clean_text('title') }} as title,
        lower({{ clean_text('category') }}) as category,
        price,
        replenishment_days
    from source
),

ranked as (
    select
        *,
        row_number() over (
            partition by product_id
            order by
                {{ binary_text('title') }} nulls last,
                {{ binary_text('category') }} nulls last,
                price desc nulls last
        ) as copy_number
    from normalised
)

select
    *,
    case
        when product_id is null then 'missing_key'
        when copy_number > 1 then 'duplicate_key'
        when replenishment_days is not null and replenishment_days <= 0 then 'invalid_replenishment_days'
    end as reject_reason
from ranked
