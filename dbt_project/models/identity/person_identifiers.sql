{#- Who is who: every identifier with the person it belongs to. person_id is a hash of the
    component's first node_key (customer ids sort first), so it stays the same from run to run
    while a person's identifiers don't change, whatever happens to anyone else. -#}
with

nodes as (
    select * from {{ ref('int_identity__nodes') }}
),

components as (
    select * from {{ ref('int_identity__components') }}
),

members as (
    select
        components.component_id,
        nodes.identifier_type,
        nodes.identifier_value,
        nodes.node_key
    from components
    inner join nodes
        on nodes.node_id = components.node_id
),

anchors as (
    select component_id, min({{ binary_text('node_key') }}) as anchor_key
    from members
    group by component_id
)

select
    'p_' || substr(md5(anchors.anchor_key), 1, 20) as person_id,
    members.identifier_type,
    members.identifier_value
from members
inner join anchors
    on anchors.component_id = members.component_id
