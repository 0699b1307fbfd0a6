-- Members the destination does not hold yet under their current key (new members, people whose
-- email changed, and rows that failed before).
select cur.{key_column} as destination_key, cur.person_id, cur.traits_hash
from {models_schema}.segment_membership as cur
where cur.segment = :segment
    and cur.{key_column} is not null
    and not exists (
        select 1
        from {state_schema}.sync_ledger as held
        where held.destination = :destination
            and held.segment = :segment
            and held.destination_key = cur.{key_column}
    )
