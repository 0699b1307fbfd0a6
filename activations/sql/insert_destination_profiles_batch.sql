insert into {state_schema}.destination_profiles (destination, destination_key, profile_id, learned_at)
select :destination, destination_key, value, :now
from {state_schema}.sync_key_batches
where batch_id = :batch_id
