delete from {state_schema}.destination_profiles
where destination = :destination
    and destination_key = :destination_key
