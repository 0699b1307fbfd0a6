-- Per segment: members now, and who entered and exited in run :run_id.
select
    coalesce(sizes.segment, moves.segment) as segment,
    coalesce(sizes.members, 0) as members,
    coalesce(moves.entered, 0) as entered,
    coalesce(moves.exited, 0) as exited
from (
    select segment, count(*) as members
    from {models_schema}.segment_membership
    group by segment
) as sizes
full outer join (
    select
        segment,
        sum(case when change = 'entered' then 1 else 0 end) as entered,
        sum(case when change = 'exited' then 1 else 0 end) as exited
    from {state_schema}.membership_change_log
    where run_id = :run_id
    group by segment
) as moves
    on moves.segment = sizes.segment
