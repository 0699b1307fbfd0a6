insert into {state_schema}.destination_profiles (destination, destination_key, profile_id, learned_at)
values (:destination, :destination_key, :profile_id, :learned_at)
