-- A failed row's attempt number: one more than the failures already recorded for its key (rows
-- arrive with 1). A join on the grouped errors, not a per-row subquery, keeps a large outage
-- linear on every warehouse.
update {state_schema}.sync_ack_batches
set attempts = previous.attempts + 1
from (
    select destination_key, max(attempts) as attempts
    from {state_schema}.sync_row_errors
    where destination = :destination
        and segment = :segment
    group by destination_key
) as previous
where sync_ack_batches.batch_id = :batch_id
    and not sync_ack_batches.ok
    and previous.destination_key = sync_ack_batches.destination_key
