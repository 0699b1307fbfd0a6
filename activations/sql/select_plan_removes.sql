-- Keys the destination holds from us, or may hold, that no current member has: people who left,
-- and the old key of people whose email or phone changed. Only what cohortflow added is ever
-- removed.
select held.*
from {{select_held_keys}} as held
where not exists (
    select 1
    from {models_schema}.segment_membership as cur
    where cur.segment = :segment
        and cur.{key_column} = held.destination_key
)
