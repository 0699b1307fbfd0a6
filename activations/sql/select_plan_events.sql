-- Enter/exit changes recorded after the destination's baseline for this segment and not yet
-- acknowledged. event_id is derived from (segment, person, change, run): a retry can never
-- produce a second event. An "entered" event carries the member's current traits (canonical JSON
-- text, one row per segment and person in segment_membership); an "exited" one carries none.
-- sent_at: when an earlier sync sent the event without recording an answer (in doubt).
select
    md5(changes.segment || '|' || changes.person_id || '|' || changes.change || '|' || changes.run_id)
        as event_id,
    changes.run_id,
    changes.person_id,
    changes.change,
    changes.traits_hash,
    runs.as_of,
    cur.traits,
    (
        select min(sending.sent_at)
        from {state_schema}.sync_events_sending as sending
        where sending.destination = :destination
            and sending.event_id = md5(
                changes.segment || '|' || changes.person_id || '|' || changes.change || '|'
                || changes.run_id
            )
    ) as sent_at
from {state_schema}.membership_change_log as changes
inner join {state_schema}.membership_runs as runs
    on runs.run_id = changes.run_id
inner join {state_schema}.sync_baselines as baseline
    on baseline.destination = :destination
    and baseline.segment = changes.segment
inner join {state_schema}.membership_runs as baseline_run
    on baseline_run.run_id = baseline.baseline_run_id
left join {models_schema}.segment_membership as cur
    on changes.change = 'entered'
    and cur.segment = changes.segment
    and cur.person_id = changes.person_id
where changes.segment = :segment
    and changes.change in ('entered', 'exited')
    and runs.recorded_at > baseline_run.recorded_at
    and not exists (
        select 1
        from {state_schema}.sync_event_acks as acks
        where acks.destination = :destination
            and acks.event_id = md5(
                changes.segment || '|' || changes.person_id || '|' || changes.change || '|'
                || changes.run_id
            )
    )
