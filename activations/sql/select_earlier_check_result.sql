-- The latest result of one check on one subject from an earlier run, and whether its failure was
-- approved: a volume failure nobody approved keeps holding the segment in later runs.
select
    results.status,
    results.blocking,
    results.failure_id,
    results.message,
    results.run_id,
    exists (
        select 1
        from {state_schema}.check_approvals as approvals
        where approvals.failure_id = results.failure_id
    ) as approved
from {state_schema}.check_results as results
where results.check_name = :check_name
    and results.subject = :subject
    and (results.run_id is null or results.run_id <> :run_id)
order by results.checked_at desc
limit 1
