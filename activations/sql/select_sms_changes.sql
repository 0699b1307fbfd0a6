-- A segment's membership changes of the kinds it texts (:changes: 'entered', 'exited'), recorded
-- after the SMS baseline and not in the outbox yet: each becomes exactly one outbox row, keyed by
-- the same event id every destination uses for the change. The phone is the person's current one;
-- an "entered" change carries the member's current traits for the template.
select
    md5(changes.segment || '|' || changes.person_id || '|' || changes.change || '|' || changes.run_id)
        as message_id,
    changes.person_id,
    changes.change,
    runs.recorded_at,
    person.phone,
    cur.traits
from {state_schema}.membership_change_log as changes
inner join {state_schema}.membership_runs as runs
    on runs.run_id = changes.run_id
inner join {state_schema}.sync_baselines as baseline
    on baseline.destination = 'sms'
    and baseline.segment = changes.segment
inner join {state_schema}.membership_runs as baseline_run
    on baseline_run.run_id = baseline.baseline_run_id
left join {models_schema}.dim_person as person
    on person.person_id = changes.person_id
left join {models_schema}.segment_membership as cur
    on changes.change = 'entered'
    and cur.segment = changes.segment
    and cur.person_id = changes.person_id
where changes.segment = :segment
    and changes.change in :changes
    and runs.recorded_at > baseline_run.recorded_at
    and not exists (
        select 1
        from {state_schema}.sms_outbox as outbox
        where outbox.message_id = md5(
            changes.segment || '|' || changes.person_id || '|' || changes.change || '|'
            || changes.run_id
        )
    )
