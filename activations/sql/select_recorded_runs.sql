-- Recorded runs, newest first, each with the time the next one was recorded (null for the last):
-- sync activity between the two belongs to the run.
select
    run_id,
    as_of,
    recorded_at,
    entered,
    exited,
    updated,
    lag(recorded_at) over (order by recorded_at desc, as_of desc) as next_recorded_at
from {state_schema}.membership_runs
order by recorded_at desc, as_of desc
