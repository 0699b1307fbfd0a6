-- Removes whose person is no longer in the segment at all: the ones the mass-removal gate counts.
-- A changed email removes the old key but the person stays, so it is not a departure.
select removed.destination_key
from ({{removes_query}}) as removed  -- filled with select_plan_removes
where not exists (
    select 1
    from {models_schema}.segment_membership as cur
    where cur.segment = :segment
        and cur.person_id = removed.person_id
)
