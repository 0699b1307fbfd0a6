{#- Every raw message event with the reason it is rejected (null = kept). Phones are read in the
    default region: a message event carries no country. -#}
with

source as (
    select * from {{ source('raw', 'message_events') }}
),

phones as (
    select * from {{ source('cohortflow_state', 'phone_e164') }}
),

normalised as (
    select
        {{ clean_text('source.message_id') }} as message_id,
        lower({{ clean_text('source.channel') }}) as channel,
        {{ normalise_email('source.email') }} as email,
        phones.phone_e164 as phone,
        lower({{ clean_text('source.event_type') }}) as event_type,
        {{ clean_text('source.campaign') }} as campaign,
        source.occurred_at,

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
            partition by message_id, channel, event_type, occurred_at, email, phone, campaign
            order by email_raw nulls last, phone_raw nulls last
        ) as copy_number
    from normalised
)

select
    *,
    case
        when copy_number > 1 then 'duplicate_row'
        when channel is null or channel not in ('email', 'sms') then 'unknown_channel'
        when event_type is null
            or event_type not in (
                'sent', 'delivered', 'opened', 'clicked', 'bounced', 'unsubscribed', 'complained'
            )
            then 'unknown_event_type'
        when occurred_at is null then 'missing_timestamp'
        when email is null and phone is null then 'no_identifier'
    end as reject_reason
from ranked
