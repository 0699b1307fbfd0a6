-- Raw columns' filled shares that stand as history, newest first: observations recorded beside
-- a raw_completeness verdict on their table that passed or warned, or failed and was approved.
-- A column emptied by a load nobody accepted never becomes the share the next load is compared
-- with. An observation's subject is its table's subject followed by `.column`.
select fill.subject, fill.run_id, fill.observed
from {state_schema}.check_results as fill
inner join {state_schema}.check_results as verdict
    on verdict.check_run_id = fill.check_run_id
    and verdict.check_name = :verdict_check
    and substr(fill.subject, 1, length(verdict.subject) + 1) = verdict.subject || '.'
where fill.check_name = :observation_check
    and fill.observed is not null
    and (
        verdict.status <> 'failed'
        or exists (
            select 1
            from {state_schema}.check_approvals as approvals
            where approvals.failure_id = verdict.failure_id
        )
    )
order by fill.checked_at desc
