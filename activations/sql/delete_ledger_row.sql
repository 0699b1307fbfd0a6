delete from {state_schema}.sync_ledger
where destination = :destination
    and segment = :segment
    and destination_key = :destination_key
