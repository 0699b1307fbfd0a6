delete from {state_schema}.sync_consents
where destination = :destination
    and channel = :channel
    and address in (
        select destination_key
        from {state_schema}.sync_key_batches
        where batch_id = :batch_id
    )
