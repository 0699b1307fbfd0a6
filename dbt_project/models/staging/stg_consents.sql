{#- Accepted raw consents: normalised, deduplicated; rejected rows are in quarantine. -#}
with

checked as (
    select * from {{ ref('stg_consents__checked') }}
)

select channel, email, phone, status, occurred_at, source
from checked
where reject_reason is null
