-- Members with no value for the destination key (no email for an email segment): never sent.
select count(*) as unroutable
from {models_schema}.segment_membership
where segment = :segment
    and {key_column} is null
