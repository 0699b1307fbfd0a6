-- Members a destination refused permanently with the data they still have: held back, with the
-- reason in sync_row_errors, until their data changes.
select count(*) as quarantined
from {models_schema}.segment_membership as cur
inner join {state_schema}.sync_row_errors as refused
    on refused.destination = :destination
    and refused.segment = :segment
    and refused.destination_key = cur.{key_column}
    and refused.traits_hash = cur.traits_hash
    and not refused.retryable
where cur.segment = :segment
