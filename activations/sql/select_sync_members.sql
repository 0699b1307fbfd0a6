-- The members whose rows a sync sends, with what a destination needs to address them: contact
-- details and the segment's traits (canonical JSON text).
select
    cur.{key_column} as destination_key,
    cur.person_id,
    cur.email,
    cur.phone,
    cur.traits,
    cur.traits_hash
from {models_schema}.segment_membership as cur
where cur.segment = :segment
    and cur.{key_column} is not null
