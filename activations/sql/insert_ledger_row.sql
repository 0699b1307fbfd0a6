insert into {state_schema}.sync_ledger
    (destination, segment, destination_key, person_id, traits_hash, synced_at)
values (:destination, :segment, :destination_key, :person_id, :traits_hash, :synced_at)
