-- Confirmed adds and updates: the destination now holds the key with this traits hash.
insert into {state_schema}.sync_ledger
    (destination, segment, destination_key, person_id, traits_hash, synced_at)
select :destination, :segment, destination_key, person_id, traits_hash, :synced_at
from {state_schema}.sync_ack_batches
where batch_id = :batch_id
    and ok
    and operation <> 'remove'
