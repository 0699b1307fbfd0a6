{#- Every raw customer row, normalised, with the reason it is rejected (null = kept).
    stg_customers keeps the accepted rows; quarantine lists the rest. -#}
with

source as (
    select * from {{ source('raw', 'customers') }}
),

phones as (
    select * from {{ source('cohortflow_state', 'phone_e164') }}
),

normalised as (
    select
        -- ids
        {{ clean_text('source.customer_id') }} as customer_id,

        -- contact
        {{ normalise_email('source.email') }} as email,
        phones.phone_e164 as phone,

        -- attributes
        {{ clean_text('source.first_name') }} as first_name,
        {{ clean_text('source.last_name') }} as last_name,
        upper({{ clean_text('source.country') }}) as country,
        {{ clean_text('source.timezone') }} as timezone,

        -- timestamps
        source.created_at,

        -- what was wrong with the row's fields
        source.email as email_raw,
        source.phone as phone_raw,
        {{ is_invalid_email('source.email') }} as email_invalid,
        {{ phone_issue('source.phone', 'phones') }} as phone_issue

    from source
    left join phones
        on phones.phone_raw = source.phone
        and phones.region = {{ phone_region('source.country') }}
),

ranked as (
    select
        *,
        row_number() over (
            partition by customer_id
            order by
                created_at desc nulls last,
                {{ binary_text('email') }} nulls last,
                {{ binary_text('phone') }} nulls last,
                {{ binary_text('first_name') }} nulls last,
                {{ binary_text('last_name') }} nulls last,
                {{ binary_text('country') }} nulls last
        ) as copy_number
    from normalised
)

select
    *,
    case
        when customer_id is null then 'missing_key'
        when copy_number > 1 then 'duplicate_key'
    end as reject_reason
from ranked
