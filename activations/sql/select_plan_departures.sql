-- Removes whose person is no longer in the segment under any key: the ones the mass-removal gate
-- counts. A changed email removes the old key but the person stays (with the new key), so it is
-- not a departure; a key that became null (a load that blanked the emails) is one.
select removed.destination_key
from {{select_plan_removes}} as removed
where not exists (
    select 1
    from {models_schema}.segment_membership as cur
    where cur.segment = :segment
        and cur.person_id = removed.person_id
        and cur.{key_column} is not null
)
