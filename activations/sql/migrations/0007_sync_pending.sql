-- Rows sent to a destination whose acknowledgement has not been recorded yet. Written before a
-- batch goes out and cleared when the destination confirms it. If the process dies, or the answer
-- is lost, in between, the destination may or may not hold the row: the planner then treats a
-- pending add as possibly held (so a leaver is still removed) and a pending remove as possibly
-- gone (so a returning member is added again). Re-sending is idempotent, so both converge.
create table {state_schema}.sync_pending (
    destination varchar not null,
    segment varchar not null,
    destination_key varchar not null,
    person_id varchar not null,
    operation varchar not null,
    traits_hash varchar not null,
    sent_at timestamp not null
);
create index sync_pending_by_key
    on {state_schema}.sync_pending (destination, segment, destination_key);
