select count(*) as members
from {models_schema}.segment_membership
where segment = :segment
