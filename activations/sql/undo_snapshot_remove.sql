-- Undo, step 1: the members the run added or re-hashed leave the snapshot...
delete from {state_schema}.membership_snapshot
where exists (
    select 1
    from {state_schema}.membership_change_log as changes
    where changes.run_id = :run_id
        and changes.change in ('entered', 'updated')
        and changes.segment = membership_snapshot.segment
        and changes.person_id = membership_snapshot.person_id
)
