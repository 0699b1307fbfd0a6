-- Addresses (the channel's: email, or phone for sms) of members of the given segments, routed
-- to a destination, whose latest warehouse consent on the channel is 'subscribed' and that the
-- destination has not acknowledged as subscribed yet. Nobody else is ever subscribed.
select distinct cur.{address_column} as address
from {models_schema}.segment_membership as cur
inner join {models_schema}.contact_consent as consent
    on consent.channel = :channel
    and consent.address = cur.{address_column}
    and consent.status = 'subscribed'
where cur.segment in :segments
    and not exists (
        select 1
        from {state_schema}.sync_consents as synced
        where synced.destination = :destination
            and synced.channel = :channel
            and synced.address = cur.{address_column}
            and synced.status = 'subscribed'
    )
