insert into {state_schema}.sync_consents (destination, channel, address, status, synced_at)
select :destination, :channel, destination_key, value, :now
from {state_schema}.sync_key_batches
where batch_id = :batch_id
