-- What reached (or may have reached) a destination since a run was recorded: acknowledged rows,
-- rows sent but not yet acknowledged, events, failed attempts, and acknowledgement batches not yet
-- settled (those carry no time, so any of them counts). Every time here is cohortflow's own UTC
-- wall clock, the clock membership_runs.recorded_at is written with.
select 'rows acknowledged' as activity, count(*) as n
from {state_schema}.sync_ledger where synced_at >= :since
union all
select 'rows sent, awaiting acknowledgement', count(*)
from {state_schema}.sync_pending where sent_at >= :since
union all
select 'events', count(*)
from {state_schema}.sync_event_acks where acknowledged_at >= :since
union all
select 'events sent, awaiting acknowledgement', count(*)
from {state_schema}.sync_events_sending where sent_at >= :since
union all
select 'failed attempts', count(*)
from {state_schema}.sync_row_errors where last_attempt_at >= :since
union all
select 'unsettled acknowledgement batches', count(*)
from {state_schema}.sync_ack_batches
