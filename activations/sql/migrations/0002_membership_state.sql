-- Change detection state (DESIGN §5). Every run compares analytics.segment_membership with
-- membership_snapshot (what the previous run saw), appends the differences to
-- membership_change_log, and moves the snapshot forward, all in one transaction.

-- One row per run that recorded changes (or found none), in the order they were recorded.
create table {state_schema}.membership_runs (
    run_id varchar not null primary key,
    as_of timestamp not null,
    recorded_at timestamp not null,
    entered bigint not null,
    exited bigint not null,
    updated bigint not null
);

-- Who was in each segment, with which traits, as of the last recorded run.
create table {state_schema}.membership_snapshot (
    segment varchar not null,
    person_id varchar not null,
    traits_hash varchar not null
);

-- The public change log: one row per change. traits_hash is the new hash for entered and
-- updated, the last known one for exited.
create table {state_schema}.membership_change_log (
    run_id varchar not null,
    as_of timestamp not null,
    segment varchar not null,
    person_id varchar not null,
    change varchar not null,
    traits_hash varchar not null
);

-- Membership intervals for analytics: a person who leaves and re-enters has two rows.
create table {state_schema}.membership_history (
    segment varchar not null,
    person_id varchar not null,
    entered_at timestamp not null,
    exited_at timestamp,
    entered_run_id varchar not null,
    exited_run_id varchar
);
