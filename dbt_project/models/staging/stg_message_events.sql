{#- Accepted raw message_events: normalised, deduplicated; rejected rows are in quarantine. -#}
with

checked as (
    select * from {{ ref('stg_message_events__checked') }}
)

select message_id, channel, email, phone, event_type, campaign, occurred_at
from checked
where reject_reason is null
