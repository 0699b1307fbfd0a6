-- Keys the destination confirmed: nothing about them is in doubt any more.
delete from {state_schema}.sync_pending
where destination = :destination
    and segment = :segment
    and destination_key in (
        select destination_key
        from {state_schema}.sync_ack_batches
        where batch_id = :batch_id
            and ok
    )
