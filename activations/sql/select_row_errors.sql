select destination_key, person_id, operation, attempts, retryable, reason
from {state_schema}.sync_row_errors
where destination = :destination
    and segment = :segment
