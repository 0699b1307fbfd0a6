-- How each settled event was settled: 'sent' (the destination acknowledged it) or 'skipped' (it
-- had no address: a person without the segment's key whom the ledger never held either), with the
-- reason. A skipped event is settled like a sent one, so it is reported once and not planned,
-- and skipped again, on every later run. Rows acknowledged before this column existed were sent.
alter table {state_schema}.sync_event_acks add column outcome varchar default 'sent';
alter table {state_schema}.sync_event_acks add column reason varchar;
