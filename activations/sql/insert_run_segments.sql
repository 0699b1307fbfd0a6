-- The segments this run compared: where each one's history now stands.
insert into {state_schema}.membership_run_segments (run_id, segment, as_of)
values (:run_id, :segment, :as_of)
