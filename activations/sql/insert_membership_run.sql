insert into {state_schema}.membership_runs
    (run_id, as_of, recorded_at, entered, exited, updated, scope)
values (:run_id, :as_of, :recorded_at, :entered, :exited, :updated, :scope)
