-- Which segments each run compared, and as of when. A fast run (issue 14) compares only the
-- segments it rebuilt while full runs compare the rest on their own schedule, so a segment's
-- last recorded instant is no longer the last run's: each segment only moves forward, and a
-- full run as of an instant before a fast run's leaves that fast run's segments alone. Runs
-- recorded before this table compared every segment (their scope is `full`).
create table {state_schema}.membership_run_segments (
    run_id varchar not null,
    segment varchar not null,
    as_of timestamp not null
);
create index membership_run_segments_by_segment
    on {state_schema}.membership_run_segments (segment, as_of);
alter table {state_schema}.membership_runs add column scope varchar default 'full';
