-- ...step 2: those it removed come back with the hash they left with (an exit's change-log row
-- carries it), and those it re-hashed get back the hash of their latest earlier entry or update.
insert into {state_schema}.membership_snapshot (segment, person_id, traits_hash)
select segment, person_id, traits_hash
from {state_schema}.membership_change_log
where run_id = :run_id
    and change = 'exited'
union all
select segment, person_id, traits_hash
from (
    select
        earlier.segment,
        earlier.person_id,
        earlier.traits_hash,
        row_number() over (
            partition by earlier.segment, earlier.person_id
            order by runs.recorded_at desc, runs.as_of desc
        ) as newest
    from {state_schema}.membership_change_log as earlier
    join {state_schema}.membership_runs as runs
        on runs.run_id = earlier.run_id
    join {state_schema}.membership_change_log as undone
        on undone.run_id = :run_id
        and undone.change = 'updated'
        and undone.segment = earlier.segment
        and undone.person_id = earlier.person_id
    where earlier.run_id <> :run_id
        and earlier.change in ('entered', 'updated')
) as previous
where newest = 1
