-- Addresses cohortflow subscribed on a channel (or sent a subscription or withdrawal for,
-- unconfirmed) at a destination whose latest warehouse consent on that channel is now
-- 'unsubscribed': the consent is withdrawn there too. Only what cohortflow granted, or may have
-- granted, is revoked.
select synced.address
from {state_schema}.sync_consents as synced
inner join {models_schema}.contact_consent as consent
    on consent.channel = synced.channel
    and consent.address = synced.address
where synced.destination = :destination
    and synced.channel = :channel
    and synced.status in ('subscribed', 'subscribing', 'unsubscribing')
    and consent.status = 'unsubscribed'
