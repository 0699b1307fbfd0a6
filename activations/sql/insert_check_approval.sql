insert into {state_schema}.check_approvals
    (failure_id, check_name, subject, approved_at, approved_by)
values (:failure_id, :check_name, :subject, :approved_at, :approved_by)
