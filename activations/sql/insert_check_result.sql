insert into {state_schema}.check_results
    (check_run_id, run_id, checked_at, check_name, subject, status, blocking, observed, threshold,
     message, failure_id)
values
    (:check_run_id, :run_id, :checked_at, :check_name, :subject, :status, :blocking, :observed,
     :threshold, :message, :failure_id)
