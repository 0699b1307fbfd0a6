{#- Emails and phones seen with more than `identity_max_customers` distinct customer_ids on the same
    rows: shared or test addresses (test@example.com on 40 accounts). They create no links, or one
    bad address would merge strangers into one person. Counted on direct co-occurrence only. -#}
with

tuples as (
    select * from {{ ref('int_identity__tuples') }}
),

identifier_customers as (
    select 'email' as identifier_type, email as identifier_value, customer_id
    from tuples
    where email is not null and customer_id is not null
    union
    select 'phone', phone, customer_id
    from tuples
    where phone is not null and customer_id is not null
)

select
    identifier_type,
    identifier_value,
    count(distinct customer_id) as customers_count
from identifier_customers
group by identifier_type, identifier_value
having count(distinct customer_id) > {{ var('identity_max_customers') }}
