insert into {state_schema}.sync_approvals
    (plan_id, destination, segment, removes, held, approved_at, approved_by)
values (:plan_id, :destination, :segment, :removes, :held, :approved_at, :approved_by)
