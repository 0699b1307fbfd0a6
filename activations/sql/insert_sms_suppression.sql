-- Record an opt-out unless it is recorded already (an inbound STOP is read again by every sync
-- whose look-back still covers it). Cast: PostgreSQL cannot type a bare parameter in a select.
insert into {state_schema}.sms_suppressions (phone, source, occurred_at, recorded_at)
select
    cast(:phone as varchar),
    cast(:source as varchar),
    cast(:occurred_at as timestamp),
    cast(:recorded_at as timestamp)
where not exists (
    select 1
    from {state_schema}.sms_suppressions
    where phone = cast(:phone as varchar)
        and source = cast(:source as varchar)
        and occurred_at = cast(:occurred_at as timestamp)
)
