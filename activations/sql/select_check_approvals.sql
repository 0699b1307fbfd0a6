select failure_id, approved_by
from {state_schema}.check_approvals
where failure_id in :failure_ids
