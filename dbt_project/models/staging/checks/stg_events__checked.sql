{#- Every raw storefront event with the reason it is rejected (null = kept). -#}
with

source as (
    select * from {{ source('raw', 'events') }}
),

normalised as (
    select
        -- ids
        {{ clean_text('event_id') }} as event_id,
        {{ clean_text('anonymous_id') }} as anonymous_id,
        {{ clean_text('customer_id') }} as customer_id,
        {{ clean_text('product_id') }} as product_id,

        -- contact
        {{ normalise_email('email') }} as email,

        lower({{ clean_text('event_type') }}) as event_type,
        occurred_at,

        email as email_raw,
        {{ is_invalid_email('email') }} as email_invalid
    from source
),

ranked as (
    select
        *,
        row_number() over (
            partition by event_id
            order by
                occurred_at desc nulls last,
                {{ binary_text('event_type') }},
                {{ binary_text('anonymous_id') }} nulls last,
                {{ binary_text('customer_id') }} nulls last,
                {{ binary_text('email') }} nulls last,
                {{ binary_text('product_id') }} nulls last
        ) as copy_number
    from normalised
)

select
    *,
    case
        when event_id is null then 'missing_key'
        when copy_number > 1 then 'duplicate_key'
        when event_type is null
            or event_type not in ('page_view', 'product_view', 'add_to_cart', 'checkout_started', 'identify')
            then 'unknown_event_type'
        when occurred_at is null then 'missing_timestamp'
        when anonymous_id is null and customer_id is null and email is null then 'no_identifier'
    end as reject_reason
from ranked
