{#- Every raw order row, normalised, with the reason it is rejected (null = kept). A phone on an
    order is read in the ordering customer's country. -#}
with

source as (
    select * from {{ source('raw', 'orders') }}
),

customers as (
    select customer_id, country from {{ ref('stg_customers') }}
),

phones as (
    select * from {{ source('cohortflow_state', 'phone_e164') }}
),

normalised as (
    select
        -- ids
        {{ clean_text('source.order_id') }} as order_id,
        {{ clean_text('source.customer_id') }} as customer_id,

        -- contact
        {{ normalise_email('source.email') }} as email,
        phones.phone_e164 as phone,

        -- numerics
        source.total,
        upper({{ clean_text('source.currency') }}) as currency,
        lower({{ clean_text('source.status') }}) as status,

        -- timestamps
        source.ordered_at,

        source.email as email_raw,
        source.phone as phone_raw,
        {{ is_invalid_email('source.email') }} as email_invalid,
        {{ phone_issue('source.phone', 'phones') }} as phone_issue

    from source
    left join customers
        on customers.customer_id = {{ clean_text('source.customer_id') }}
    left join phones
        on phones.phone_raw = source.phone
        and phones.region = {{ phone_region('customers.country') }}
),

ranked as (
    select
        *,
        row_number() over (
            partition by order_id
            order by
                ordered_at desc nulls last,
                {{ binary_text('status') }},
                total desc nulls last,
                {{ binary_text('customer_id') }} nulls last,
                {{ binary_text('email') }} nulls last,
                {{ binary_text('phone') }} nulls last
        ) as copy_number
    from normalised
)

select
    *,
    case
        when order_id is null then 'missing_key'
        when copy_number > 1 then 'duplicate_key'
        when status is null or status not in ('placed', 'cancelled', 'refunded') then 'unknown_status'
        when ordered_at is null then 'missing_timestamp'
        when total is null then 'missing_total'
        when customer_id is null and email is null and phone is null then 'no_identifier'
    end as reject_reason
from ranked
