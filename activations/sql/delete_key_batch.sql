delete from {state_schema}.sync_key_batches
where batch_id = :batch_id
