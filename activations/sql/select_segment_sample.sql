-- A few current members of one segment, for `cohortflow segments show` (addresses masked there).
select person_id, email, phone, traits
from {models_schema}.segment_membership
where segment = :segment
order by person_id
limit :limit
