-- What each destination acknowledged, per segment, keyed by the destination identity (email,
-- phone or person_id as the segment configures). A row is written here only after the
-- destination confirmed it; the sync plan is desired state minus this table.
create table {state_schema}.sync_ledger (
    destination varchar not null,
    segment varchar not null,
    destination_key varchar not null,
    person_id varchar not null,
    traits_hash varchar not null,
    synced_at timestamp not null
);

-- Rows a destination refused or that failed in transit: planned again until acknowledged
-- (retryable) or until the data changes (permanent), with the attempts and the reason.
create table {state_schema}.sync_row_errors (
    destination varchar not null,
    segment varchar not null,
    destination_key varchar not null,
    person_id varchar not null,
    operation varchar not null,
    attempts integer not null,
    retryable boolean not null,
    reason varchar not null,
    last_attempt_at timestamp not null
);

-- Enter/exit events a destination acknowledged, by their stable id, so a retry never sends one
-- twice.
create table {state_schema}.sync_event_acks (
    destination varchar not null,
    event_id varchar not null,
    acknowledged_at timestamp not null
);

-- The run a destination started syncing a segment at: changes before it are not sent as events
-- (a first sync would otherwise fire "Entered segment" flows for every existing member).
create table {state_schema}.sync_baselines (
    destination varchar not null,
    segment varchar not null,
    baseline_run_id varchar not null,
    created_at timestamp not null
);

-- Approved plans that remove more than max_exit_fraction of what a destination holds.
create table {state_schema}.sync_approvals (
    plan_id varchar not null,
    destination varchar not null,
    segment varchar not null,
    removes bigint not null,
    held bigint not null,
    approved_at timestamp not null,
    approved_by varchar not null
);
