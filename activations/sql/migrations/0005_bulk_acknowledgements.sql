-- Acknowledgements on their way into the ledger: a batch is loaded here in bulk, applied to
-- sync_ledger and sync_row_errors with a few set-based statements and deleted, all in one
-- transaction (row-by-row statements took about a millisecond per row). batch_id keeps
-- concurrent syncs apart.
create table {state_schema}.sync_ack_batches (
    batch_id varchar not null,
    destination_key varchar not null,
    person_id varchar not null,
    operation varchar not null,
    traits_hash varchar not null,
    ok boolean not null,
    retryable boolean not null,
    reason varchar,
    attempts integer
);

-- The traits hash a refused row had: a permanent refusal (an address the destination rejects,
-- oversized traits) quarantines the row until its data changes, instead of re-sending it, and
-- failing, on every run.
alter table {state_schema}.sync_row_errors add column traits_hash varchar;

-- Keys with one value each (a destination's profile id, a consent status) on their way into
-- destination_profiles or sync_consents, bulk-loaded and applied set-based like the above.
create table {state_schema}.sync_key_batches (
    batch_id varchar not null,
    destination_key varchar not null,
    value varchar not null
);
