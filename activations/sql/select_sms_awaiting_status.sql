-- Sent messages whose delivery Twilio has not reported final yet, sent recently enough to ask.
select message_id, twilio_sid
from {state_schema}.sms_outbox
where status = 'sent'
    and twilio_sid is not null
    and sent_at >= :since
order by sent_at, message_id
