-- Marketing consent a destination holds from cohortflow, on any channel, for an address the
-- warehouse has no consent record of at all on that channel (a withdrawn record is not this:
-- the next sync withdraws it).
select granted.destination, granted.channel, granted.address
from {state_schema}.sync_consents as granted
where granted.status in ('subscribed', 'subscribing')
    and not exists (
        select 1
        from {models_schema}.contact_consent as consent
        where consent.channel = granted.channel
            and consent.address = granted.address
    )
order by granted.destination, granted.channel, granted.address
