select segment, change, count(*) as changes
from {state_schema}.membership_change_log
where run_id = :run_id
group by segment, change
