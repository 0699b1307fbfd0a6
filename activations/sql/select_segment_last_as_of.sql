-- The instant each segment was last compared as of: its own rows in membership_run_segments,
-- else the last run recorded before that table existed (those compared every segment).
select segments.segment, coalesce(compared.as_of, legacy.as_of) as as_of
from (
    select distinct segment from {models_schema}.segment_membership
    union
    select distinct segment from {state_schema}.membership_snapshot
    union
    select distinct segment from {state_schema}.membership_run_segments
) as segments
left join (
    select segment, max(as_of) as as_of
    from {state_schema}.membership_run_segments
    group by segment
) as compared
    on compared.segment = segments.segment
cross join (
    select max(runs.as_of) as as_of
    from {state_schema}.membership_runs as runs
    where not exists (
        select 1 from {state_schema}.membership_run_segments as done
        where done.run_id = runs.run_id
    )
) as legacy
