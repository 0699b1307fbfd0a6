{#- Accepted raw customers: normalised, deduplicated; rejected rows are in quarantine. -#}
with

checked as (
    select * from {{ ref('stg_customers__checked') }}
)

select customer_id, email, phone, first_name, last_name, country, timezone, created_at
from checked
where reject_reason is null
