-- Raw phones with the region staging reads them in (the customer's country, else the default),
-- that the lookup does not hold yet. A superset of staging's pairs is fine: extra rows are unused.
with

candidates as (
    select phone as phone_raw, coalesce(upper(nullif(trim(country), '')), :default_region) as region
    from {raw_schema}.customers
    where nullif(trim(phone), '') is not null
    union
    select orders.phone, coalesce(upper(nullif(trim(customers.country), '')), :default_region)
    from {raw_schema}.orders as orders
    left join {raw_schema}.customers as customers
        on nullif(trim(customers.customer_id), '') = nullif(trim(orders.customer_id), '')
    where nullif(trim(orders.phone), '') is not null
    union
    select phone, :default_region
    from {raw_schema}.orders
    where nullif(trim(phone), '') is not null
    union
    select phone, :default_region
    from {raw_schema}.consents
    where nullif(trim(phone), '') is not null
    union
    select phone, :default_region
    from {raw_schema}.message_events
    where nullif(trim(phone), '') is not null
)

select candidates.phone_raw, candidates.region
from candidates
where not exists (
    select 1
    from {state_schema}.phone_e164 as known
    where known.phone_raw = candidates.phone_raw
        and known.region = candidates.region
)
