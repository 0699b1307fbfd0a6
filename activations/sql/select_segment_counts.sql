select segment as label, count(*) as persons
from {models_schema}.segment_membership
group by segment
