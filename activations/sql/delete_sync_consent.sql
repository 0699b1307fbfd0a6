delete from {state_schema}.sync_consents
where destination = :destination
    and channel = :channel
    and address = :address
