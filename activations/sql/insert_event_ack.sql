insert into {state_schema}.sync_event_acks (destination, event_id, acknowledged_at)
values (:destination, :event_id, :acknowledged_at)
