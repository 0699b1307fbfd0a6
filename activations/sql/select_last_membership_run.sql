select run_id, as_of
from {state_schema}.membership_runs
order by recorded_at desc, as_of desc
limit 1
