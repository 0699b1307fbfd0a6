-- The SMS outbox: one row per text cohortflow means to send, keyed by the membership change it
-- is for (the change's event id), so a change can never become a second message. A row is
-- written before anything is sent and moves through planned/deferred -> sending -> sent ->
-- delivered (or failed, suppressed, expired, unknown); `sending` is committed before the request
-- goes out, so a crash leaves evidence that the message may have gone (docs/destinations/sms.md).
create table {state_schema}.sms_outbox (
    message_id varchar not null,
    segment varchar not null,
    person_id varchar not null,
    change varchar not null,
    template varchar not null,
    phone varchar,
    body varchar,
    status varchar not null,
    reason_code varchar,
    reason varchar,
    planned_at timestamp not null,
    send_after timestamp,
    expires_at timestamp not null,
    sending_at timestamp,
    sent_at timestamp,
    twilio_sid varchar,
    twilio_status varchar,
    error_code integer,
    updated_at timestamp not null
);

-- Phones that opted out (Twilio error 21610, an inbound STOP): permanent, and lifted only by a
-- warehouse SMS consent that occurred after the opt-out.
create table {state_schema}.sms_suppressions (
    phone varchar not null,
    source varchar not null,
    occurred_at timestamp not null,
    recorded_at timestamp not null
);
