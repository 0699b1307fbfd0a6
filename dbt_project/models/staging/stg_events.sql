{#- Accepted raw events: normalised, deduplicated; rejected rows are in quarantine. -#}
with

checked as (
    select * from {{ ref('stg_events__checked') }}
)

select event_id, anonymous_id, customer_id, email, product_id, event_type, occurred_at
from checked
where reject_reason is null
