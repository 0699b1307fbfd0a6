insert into {state_schema}.sync_consents (destination, channel, address, status, synced_at)
values (:destination, :channel, :address, :status, :synced_at)
