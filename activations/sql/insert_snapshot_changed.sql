-- ...and entries and updates come in with their new traits hash.
insert into {state_schema}.membership_snapshot (segment, person_id, traits_hash)
select segment, person_id, traits_hash
from {state_schema}.membership_change_log
where run_id = :run_id
    and change in ('entered', 'updated')
