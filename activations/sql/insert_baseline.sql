insert into {state_schema}.sync_baselines (destination, segment, baseline_run_id, created_at)
values (:destination, :segment, :baseline_run_id, :created_at)
