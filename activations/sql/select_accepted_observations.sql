-- Observations of one check that stand as history, newest first: from checks that passed or
-- warned, or failures a person approved. A collapsed row count nobody accepted never becomes the
-- count the next run is compared with.
select results.subject, results.run_id, results.observed
from {state_schema}.check_results as results
where results.check_name = :check_name
    and results.observed is not null
    and (
        results.status <> 'failed'
        or exists (
            select 1
            from {state_schema}.check_approvals as approvals
            where approvals.failure_id = results.failure_id
        )
    )
order by results.checked_at desc
