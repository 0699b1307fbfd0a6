delete from {state_schema}.sync_ack_batches
where batch_id = :batch_id
