-- ...and those it closed are open again.
update {state_schema}.membership_history
set exited_at = null, exited_run_id = null
where exited_run_id = :run_id
