{#- Every distinct combination of identifiers that appeared together on one raw row, from every
    table that carries identifiers. Two rows with the same identifiers link exactly the same
    things, so the graph is built from these tuples rather than from millions of event rows. -#}
with

customers as (
    select customer_id, email, phone, cast(null as {{ dbt.type_string() }}) as anonymous_id
    from {{ ref('stg_customers') }}
),

orders as (
    select customer_id, email, phone, cast(null as {{ dbt.type_string() }}) as anonymous_id
    from {{ ref('stg_orders') }}
),

events as (
    select customer_id, email, cast(null as {{ dbt.type_string() }}) as phone, anonymous_id
    from {{ ref('stg_events') }}
),

consents as (
    select
        cast(null as {{ dbt.type_string() }}) as customer_id, email, phone,
        cast(null as {{ dbt.type_string() }}) as anonymous_id
    from {{ ref('stg_consents') }}
),

message_events as (
    select
        cast(null as {{ dbt.type_string() }}) as customer_id, email, phone,
        cast(null as {{ dbt.type_string() }}) as anonymous_id
    from {{ ref('stg_message_events') }}
),

tuples as (
    select * from customers
    union
    select * from orders
    union
    select * from events
    union
    select * from consents
    union
    select * from message_events
)

select
    row_number() over (
        order by customer_id nulls last, email nulls last, phone nulls last, anonymous_id nulls last
    ) as tuple_id,
    customer_id,
    email,
    phone,
    anonymous_id
from tuples
where coalesce(customer_id, email, phone, anonymous_id) is not null
