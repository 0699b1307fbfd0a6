-- Email marketing consent a destination holds from cohortflow for an address the warehouse has no
-- consent record of at all (a withdrawn record is not this: the next sync withdraws it).
select granted.destination, granted.address
from {state_schema}.sync_consents as granted
where granted.channel = 'email'
    and granted.status in ('subscribed', 'subscribing')
    and not exists (
        select 1
        from {models_schema}.contact_consent as consent
        where consent.channel = 'email'
            and consent.address = granted.address
    )
order by granted.destination, granted.address
