-- Each suppressed phone's latest opt-out (when, and what recorded it: STOP, Twilio 21610).
select phone, occurred_at as opted_out_at, source as opted_out_by
from (
    select
        phone,
        occurred_at,
        source,
        row_number() over (partition by phone order by occurred_at desc, source) as latest
    from {state_schema}.sms_suppressions
) as ranked
where latest = 1
