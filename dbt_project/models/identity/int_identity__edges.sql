{#- Links between identifiers: on each tuple, every usable identifier links to the tuple's first
    usable one (a star connects the same nodes as all pairs, with fewer edges). Shared emails and
    phones are left out. Both directions are stored because the walk follows edges one way. -#}
with

tuples as (
    select * from {{ ref('int_identity__tuples') }}
),

shared as (
    select * from {{ ref('int_identity__shared_identifiers') }}
),

nodes as (
    select * from {{ ref('int_identity__nodes') }}
),

usable as (
    select
        tuples.tuple_id,
        tuples.customer_id,
        case when shared_email.identifier_value is null then tuples.email end as email,
        case when shared_phone.identifier_value is null then tuples.phone end as phone,
        tuples.anonymous_id
    from tuples
    left join shared as shared_email
        on shared_email.identifier_type = 'email'
        and shared_email.identifier_value = tuples.email
    left join shared as shared_phone
        on shared_phone.identifier_type = 'phone'
        and shared_phone.identifier_value = tuples.phone
),

members as (
    select tuple_id, 1 as position, 'customer_id' as identifier_type, customer_id as identifier_value
    from usable where customer_id is not null
    union all
    select tuple_id, 2, 'email', email from usable where email is not null
    union all
    select tuple_id, 3, 'phone', phone from usable where phone is not null
    union all
    select tuple_id, 4, 'anonymous_id', anonymous_id from usable where anonymous_id is not null
),

member_nodes as (
    select
        members.tuple_id,
        members.position,
        nodes.node_id
    from members
    inner join nodes
        on nodes.identifier_type = members.identifier_type
        and nodes.identifier_value = members.identifier_value
),

centres as (
    select tuple_id, min(position) as position
    from member_nodes
    group by tuple_id
),

star as (
    select
        centre_node.node_id as from_node_id,
        member_nodes.node_id as to_node_id
    from member_nodes
    inner join centres
        on centres.tuple_id = member_nodes.tuple_id
    inner join member_nodes as centre_node
        on centre_node.tuple_id = centres.tuple_id
        and centre_node.position = centres.position
    where member_nodes.position <> centres.position
)

select from_node_id, to_node_id from star
union
select to_node_id, from_node_id from star
