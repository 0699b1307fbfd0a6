-- Email addresses of members routed to a destination whose latest warehouse consent is
-- 'subscribed' and that the destination has not acknowledged as subscribed yet. Nobody else is
-- ever subscribed.
select distinct cur.email as address
from {models_schema}.segment_membership as cur
inner join {models_schema}.contact_consent as consent
    on consent.channel = 'email'
    and consent.address = cur.email
    and consent.status = 'subscribed'
where cur.segment in :segments
    and not exists (
        select 1
        from {state_schema}.sync_consents as synced
        where synced.destination = :destination
            and synced.channel = 'email'
            and synced.address = cur.email
            and synced.status = 'subscribed'
    )
