delete from {state_schema}.sync_targets
where destination = :destination
    and segment = :segment
