-- When each of these phones was last texted (sent, delivered, or possibly sent), across every
-- segment, within the longest frequency-cap window: what the caps count.
select phone, coalesce(sent_at, sending_at) as sent_at
from {state_schema}.sms_outbox
where phone in :phones
    and status in ('sending', 'sent', 'delivered', 'undelivered', 'unknown')
    and coalesce(sent_at, sending_at) >= :since
