select rfm_tier as label, count(*) as persons
from {models_schema}.person_rfm
group by rfm_tier
