-- A failed row's attempt number: one more than the failures already recorded for its key.
update {state_schema}.sync_ack_batches
set attempts = 1 + coalesce(
    (
        select max(errors.attempts)
        from {state_schema}.sync_row_errors as errors
        where errors.destination = :destination
            and errors.segment = :segment
            and errors.destination_key = sync_ack_batches.destination_key
    ),
    0
)
where batch_id = :batch_id
    and not ok
