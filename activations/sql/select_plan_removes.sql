-- Keys the destination holds from us, or may hold (sent, answer never recorded), that no current
-- member has: people who left, and the old key of people whose email or phone changed. Only what
-- cohortflow added is ever removed.
select held.destination_key, min(held.person_id) as person_id, min(held.traits_hash) as traits_hash
from (
    select destination_key, person_id, traits_hash
    from {state_schema}.sync_ledger
    where destination = :destination
        and segment = :segment
    union all
    select destination_key, person_id, traits_hash
    from {state_schema}.sync_pending
    where destination = :destination
        and segment = :segment
        and operation in ('add', 'update')
) as held
where not exists (
    select 1
    from {models_schema}.segment_membership as cur
    where cur.segment = :segment
        and cur.{key_column} = held.destination_key
)
group by held.destination_key
