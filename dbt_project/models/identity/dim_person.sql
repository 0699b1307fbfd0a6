{#- One row per person with the contact details cohortflow sends to destinations. The primary
    customer record is the earliest created account; email and phone come from it when they belong to
    this person (a shared address does not), else the smallest one the person has. -#}
with

identifiers as (
    select * from {{ ref('person_identifiers') }}
),

customers as (
    select * from {{ ref('stg_customers') }}
),

person_customers as (
    select
        identifiers.person_id,
        customers.*,
        row_number() over (
            partition by identifiers.person_id
            order by customers.created_at asc nulls last, {{ binary_text('customers.customer_id') }}
        ) as customer_rank
    from identifiers
    inner join customers
        on customers.customer_id = identifiers.identifier_value
    where identifiers.identifier_type = 'customer_id'
),

primary_customer as (
    select * from person_customers where customer_rank = 1
),

summary as (
    select
        person_id,
        min(case when identifier_type = 'customer_id' then {{ binary_text('identifier_value') }} end)
            as any_customer_id,
        min(case when identifier_type = 'email' then {{ binary_text('identifier_value') }} end)
            as any_email,
        min(case when identifier_type = 'phone' then {{ binary_text('identifier_value') }} end)
            as any_phone,
        count(case when identifier_type = 'customer_id' then 1 end) as customer_ids_count,
        count(case when identifier_type = 'email' then 1 end) as emails_count,
        count(case when identifier_type = 'phone' then 1 end) as phones_count,
        count(case when identifier_type = 'anonymous_id' then 1 end) as anonymous_ids_count
    from identifiers
    group by person_id
),

own_email as (
    select person_id, identifier_value as email
    from identifiers
    where identifier_type = 'email'
),

own_phone as (
    select person_id, identifier_value as phone
    from identifiers
    where identifier_type = 'phone'
)

select
    -- ids
    summary.person_id,
    coalesce(primary_customer.customer_id, summary.any_customer_id) as customer_id,

    -- contact
    coalesce(own_email.email, summary.any_email) as email,
    coalesce(own_phone.phone, summary.any_phone) as phone,
    primary_customer.first_name,
    primary_customer.last_name,
    primary_customer.country,
    primary_customer.timezone,

    -- identity
    (summary.customer_ids_count + summary.emails_count + summary.phones_count) > 0 as is_known,
    summary.customer_ids_count,
    summary.emails_count,
    summary.phones_count,
    summary.anonymous_ids_count,

    -- timestamps
    primary_customer.created_at as customer_created_at

from summary
left join primary_customer
    on primary_customer.person_id = summary.person_id
left join own_email
    on own_email.person_id = summary.person_id
    and own_email.email = primary_customer.email
left join own_phone
    on own_phone.person_id = summary.person_id
    and own_phone.phone = primary_customer.phone
