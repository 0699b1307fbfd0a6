-- Every key of the batch has a fresh answer: its previous error, if any, is superseded.
delete from {state_schema}.sync_row_errors
where destination = :destination
    and segment = :segment
    and destination_key in (
        select destination_key
        from {state_schema}.sync_ack_batches
        where batch_id = :batch_id
    )
