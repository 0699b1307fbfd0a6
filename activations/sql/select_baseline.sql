select baseline_run_id
from {state_schema}.sync_baselines
where destination = :destination
    and segment = :segment
