select source_table || ': ' || reason as label, count(*) as persons
from {staging_schema}.quarantine
group by source_table, reason
