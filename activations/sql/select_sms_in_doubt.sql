-- Messages whose send went out without a recorded answer (a crash, a lost response): never sent
-- again until Twilio's message list says whether it has them.
select message_id, segment, phone, body, sending_at
from {state_schema}.sms_outbox
where status = 'sending'
order by sending_at, message_id
