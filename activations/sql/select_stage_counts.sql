select lifecycle_stage as label, count(*) as persons
from {models_schema}.person_lifecycle
group by lifecycle_stage
