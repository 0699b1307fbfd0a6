-- Keys the destination confirmed: their old ledger row goes (a remove, or replaced below).
delete from {state_schema}.sync_ledger
where destination = :destination
    and segment = :segment
    and destination_key in (
        select destination_key
        from {state_schema}.sync_ack_batches
        where batch_id = :batch_id
            and ok
    )
