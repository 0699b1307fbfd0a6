-- Keys the destination holds from us that no current member has: people who left, and the old
-- key of people whose email or phone changed. Only what cohortflow added is ever removed.
select held.destination_key, held.person_id, held.traits_hash
from {state_schema}.sync_ledger as held
where held.destination = :destination
    and held.segment = :segment
    and not exists (
        select 1
        from {models_schema}.segment_membership as cur
        where cur.segment = :segment
            and cur.{key_column} = held.destination_key
    )
