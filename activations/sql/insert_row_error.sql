insert into {state_schema}.sync_row_errors
    (destination, segment, destination_key, person_id, operation, attempts, retryable, reason,
     last_attempt_at)
values
    (:destination, :segment, :destination_key, :person_id, :operation, :attempts, :retryable,
     :reason, :last_attempt_at)
