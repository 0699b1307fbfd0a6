{#- Storefront events up to as_of, each attributed to a person through its customer id, email or
    anonymous id (all on one row belong to the same person unless the email is shared). -#}
with

events as (
    select * from {{ ref('stg_events') }}
    where occurred_at <= {{ as_of() }}
),

identifiers as (
    select * from {{ ref('person_identifiers') }}
)

select
    events.event_id,
    coalesce(by_customer.person_id, by_email.person_id, by_device.person_id) as person_id,
    events.event_type,
    events.product_id,
    events.occurred_at
from events
left join identifiers as by_customer
    on by_customer.identifier_type = 'customer_id'
    and by_customer.identifier_value = events.customer_id
left join identifiers as by_email
    on by_email.identifier_type = 'email'
    and by_email.identifier_value = events.email
left join identifiers as by_device
    on by_device.identifier_type = 'anonymous_id'
    and by_device.identifier_value = events.anonymous_id
