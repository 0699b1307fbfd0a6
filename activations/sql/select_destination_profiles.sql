select destination_key, profile_id
from {state_schema}.destination_profiles
where destination = :destination
