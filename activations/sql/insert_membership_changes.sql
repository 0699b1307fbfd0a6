-- The diff: current segment_membership against the previous run's snapshot, appended to the change
-- log. A full outer join on (segment, person_id) finds entries (no previous row), exits (no current
-- row) and trait updates (both, different hash) in one pass inside the warehouse, for the segments
-- this run compares (a fast run compares only its own).
insert into {state_schema}.membership_change_log
    (run_id, as_of, segment, person_id, change, traits_hash)
select
    :run_id,
    :as_of,
    coalesce(cur.segment, prev.segment),
    coalesce(cur.person_id, prev.person_id),
    case
        when prev.person_id is null then 'entered'
        when cur.person_id is null then 'exited'
        else 'updated'
    end,
    coalesce(cur.traits_hash, prev.traits_hash)
from {models_schema}.segment_membership as cur
full outer join {state_schema}.membership_snapshot as prev
    on prev.segment = cur.segment
    and prev.person_id = cur.person_id
where coalesce(cur.segment, prev.segment) in :segments
    and (
        prev.person_id is null
        or cur.person_id is null
        or prev.traits_hash <> cur.traits_hash
    )
