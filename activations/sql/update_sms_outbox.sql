-- One message's new state: the columns a transition sets (unchanged ones pass their old value).
update {state_schema}.sms_outbox
set status = :status,
    reason_code = :reason_code,
    reason = :reason,
    send_after = :send_after,
    sending_at = coalesce(:sending_at, sending_at),
    sent_at = coalesce(:sent_at, sent_at),
    twilio_sid = coalesce(:twilio_sid, twilio_sid),
    twilio_status = coalesce(:twilio_status, twilio_status),
    error_code = coalesce(:error_code, error_code),
    updated_at = :updated_at
where message_id = :message_id
