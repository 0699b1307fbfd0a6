-- Refused or unconfirmed rows, with the attempt number and the reason: planned again next run.
insert into {state_schema}.sync_row_errors
    (destination, segment, destination_key, person_id, operation, attempts, retryable, reason,
     last_attempt_at, traits_hash)
select
    :destination,
    :segment,
    destination_key,
    person_id,
    operation,
    attempts,
    retryable,
    coalesce(reason, 'unknown error'),
    :last_attempt_at,
    traits_hash
from {state_schema}.sync_ack_batches
where batch_id = :batch_id
    and not ok
