-- The latest failure with this id, for `cohortflow approve`.
select check_name, subject, message, run_id
from {state_schema}.check_results
where failure_id = :failure_id
order by checked_at desc
limit 1
