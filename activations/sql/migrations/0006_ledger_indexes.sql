-- Every ledger statement looks rows up by (destination, segment, key): on PostgreSQL these
-- indexes turn the plan's anti-joins and the acknowledgement deletes into index lookups.
create index sync_ledger_by_key
    on {state_schema}.sync_ledger (destination, segment, destination_key);
create index sync_row_errors_by_key
    on {state_schema}.sync_row_errors (destination, segment, destination_key);
create index sync_event_acks_by_id on {state_schema}.sync_event_acks (destination, event_id);
