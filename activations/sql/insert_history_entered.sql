insert into {state_schema}.membership_history
    (segment, person_id, entered_at, exited_at, entered_run_id, exited_run_id)
select segment, person_id, as_of, null, run_id, null
from {state_schema}.membership_change_log
where run_id = :run_id
    and change = 'entered'
