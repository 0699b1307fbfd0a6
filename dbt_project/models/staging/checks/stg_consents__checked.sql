{#- Every raw consent change with the reason it is rejected (null = kept). An email consent needs a
    valid email and an SMS consent a valid phone: consent for an unreachable address means nothing. -#}
with

source as (
    select * from {{ source('raw', 'consents') }}
),

phones as (
    select * from {{ source('cohortflow_state', 'phone_e164') }}
),

normalised as (
    select
        lower({{ clean_text('source.channel') }}) as channel,
        {{ normalise_email('source.email') }} as email,
        phones.phone_e164 as phone,
        lower({{ clean_text('source.status') }}) as status,
        source.occurred_at,
        {{ clean_text('source.source') }} as source,

        source.email as email_raw,
        source.phone as phone_raw,
        {{ is_invalid_email('source.email') }} as email_invalid,
        {{ phone_issue('source.phone', 'phones') }} as phone_issue
    from source
    left join phones
        on phones.phone_raw = source.phone
        and phones.region = {{ default_phone_region() }}
),

ranked as (
    select
        *,
        row_number() over (
            partition by channel, email, phone, status, occurred_at, source
            order by email_raw nulls last, phone_raw nulls last
        ) as copy_number
    from normalised
)

select
    *,
    case
        when copy_number > 1 then 'duplicate_row'
        when channel is null or channel not in ('email', 'sms') then 'unknown_channel'
        when status is null or status not in ('subscribed', 'unsubscribed') then 'unknown_status'
        when occurred_at is null then 'missing_timestamp'
        when channel = 'email' and email is null then 'no_identifier'
        when channel = 'sms' and phone is null then 'no_identifier'
    end as reject_reason
from ranked
