{#- Connected components of the identifier graph: each node with the smallest node_id it can reach.
    A recursive walk with UNION (set semantics) stops when no new (node, origin) pair appears, so it
    is exact for chains of any length (device -> email -> customer -> phone -> ...), not only pairs.
    Work grows with the square of a component's size; the shared-identifier guard keeps components
    person-sized. -#}
with recursive

edges as (
    select from_node_id, to_node_id from {{ ref('int_identity__edges') }}
),

reach (node_id, origin_id) as (
    select node_id, node_id from {{ ref('int_identity__nodes') }}
    union
    select edges.to_node_id, reach.origin_id
    from reach
    inner join edges
        on edges.from_node_id = reach.node_id
)

select
    node_id,
    min(origin_id) as component_id
from reach
group by node_id
