-- When the earliest deferred text may go: what the Dagster sensor `deferred_texts` waits for.
select min(send_after) as next_deferred_at
from {state_schema}.sms_outbox
where status = 'deferred'
