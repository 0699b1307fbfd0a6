select plan_id
from {state_schema}.sync_approvals
where plan_id = :plan_id
