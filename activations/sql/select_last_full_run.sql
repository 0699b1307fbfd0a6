-- The last run that compared every segment (a full run), or none.
select run_id, as_of
from {state_schema}.membership_runs
where coalesce(scope, 'full') = 'full'
order by recorded_at desc, as_of desc
limit 1
