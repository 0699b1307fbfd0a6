-- Whether anything was acknowledged or attempted at a destination in [since, until).
select count(*) as n from (
    select synced_at as happened_at from {state_schema}.sync_ledger
    union all
    select sent_at from {state_schema}.sync_pending
    union all
    select acknowledged_at from {state_schema}.sync_event_acks
    union all
    select last_attempt_at from {state_schema}.sync_row_errors
) as activity
where happened_at >= :since
    and (cast(:until as timestamp) is null or happened_at < :until)
