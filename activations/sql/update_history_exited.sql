update {state_schema}.membership_history
set exited_at = :as_of, exited_run_id = :run_id
where exited_at is null
    and exists (
        select 1
        from {state_schema}.membership_change_log as changes
        where changes.run_id = :run_id
            and changes.change = 'exited'
            and changes.segment = membership_history.segment
            and changes.person_id = membership_history.person_id
    )
