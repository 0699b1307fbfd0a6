delete from {state_schema}.destination_profiles
where destination = :destination
    and destination_key in (
        select destination_key
        from {state_schema}.sync_key_batches
        where batch_id = :batch_id
    )
