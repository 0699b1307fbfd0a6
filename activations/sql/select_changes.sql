select run_id, as_of, segment, person_id, change, traits_hash
from {state_schema}.membership_change_log
where (cast(:run_id as varchar) is null or run_id = :run_id)
    and (cast(:segment as varchar) is null or segment = :segment)
order by as_of, run_id, segment, change, person_id
limit :limit
