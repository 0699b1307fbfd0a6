-- How many outbox rows are in each state, for the line under `cohortflow sms outbox`.
select status, count(*) as n
from {state_schema}.sms_outbox
group by status
