select run_id, as_of, recorded_at, entered, exited, updated
from {state_schema}.membership_runs
order by recorded_at desc
limit :limit
