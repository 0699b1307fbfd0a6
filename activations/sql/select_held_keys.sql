-- Keys the destination holds from us for this segment, or may hold (sent, answer never recorded),
-- one row per key. profile_id: the destination's id for the key, when an earlier sync learnt it.
select
    held.destination_key,
    min(held.person_id) as person_id,
    min(held.traits_hash) as traits_hash,
    min(known.profile_id) as profile_id
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
left join {state_schema}.destination_profiles as known
    on known.destination = :destination
    and known.destination_key = held.destination_key
group by held.destination_key
