insert into {state_schema}.sync_targets (destination, segment, target, recorded_at)
values (:destination, :segment, :target, :recorded_at)
