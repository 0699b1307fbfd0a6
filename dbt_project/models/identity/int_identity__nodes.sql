{#- Every identifier as a graph node with a compact integer id (the recursive walk joins on it) and a
    `node_key` whose order decides the person's stable id: customer ids first, then email, phone and
    anonymous ids, so a new device never changes who someone is. -#}
with

tuples as (
    select * from {{ ref('int_identity__tuples') }}
),

identifiers as (
    select 'customer_id' as identifier_type, customer_id as identifier_value from tuples
    where customer_id is not null
    union
    select 'email', email from tuples where email is not null
    union
    select 'phone', phone from tuples where phone is not null
    union
    select 'anonymous_id', anonymous_id from tuples where anonymous_id is not null
),

keyed as (
    select
        identifier_type,
        identifier_value,
        case identifier_type
            when 'customer_id' then '1'
            when 'email' then '2'
            when 'phone' then '3'
            else '4'
        end || ':' || identifier_value as node_key
    from identifiers
)

select
    row_number() over (order by {{ binary_text('node_key') }}) as node_id,
    identifier_type,
    identifier_value,
    node_key
from keyed
