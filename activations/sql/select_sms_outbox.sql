-- The outbox for `cohortflow sms outbox`, newest change first, optionally one status and one
-- segment (a null filter keeps every row).
select
    message_id,
    segment,
    person_id,
    change,
    phone,
    status,
    reason_code,
    reason,
    planned_at,
    send_after,
    sent_at,
    twilio_sid,
    error_code,
    updated_at
from {state_schema}.sms_outbox
where status = coalesce(:status, status)
    and segment = coalesce(:segment, segment)
order by updated_at desc, message_id
limit :limit
