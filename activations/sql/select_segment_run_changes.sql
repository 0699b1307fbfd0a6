-- One segment's entered/exited/updated per recorded run, oldest first, with every run listed
-- (a run that did not touch the segment counts zeros), so sizes can be accumulated run by run.
select
    runs.run_id,
    runs.as_of,
    coalesce(sum(case when log.change = 'entered' then 1 else 0 end), 0) as entered,
    coalesce(sum(case when log.change = 'exited' then 1 else 0 end), 0) as exited,
    coalesce(sum(case when log.change = 'updated' then 1 else 0 end), 0) as updated
from {state_schema}.membership_runs as runs
left join {state_schema}.membership_change_log as log
    on log.run_id = runs.run_id
    and log.segment = :segment
group by runs.run_id, runs.as_of
order by runs.as_of, runs.run_id
