-- Events a destination was sent whose answer was not recorded (a lost answer, a crash). Written
-- before the request goes out. Omnisend cannot deduplicate a real-time event, so an event listed
-- here and not in sync_event_acks is in doubt: the destination finds out what the vendor holds
-- (Omnisend: its event batches echo every item) before it sends the event again.
create table {state_schema}.sync_events_sending (
    destination varchar not null,
    event_id varchar not null,
    sent_at timestamp not null
);
create index sync_events_sending_by_id on {state_schema}.sync_events_sending (destination, event_id);
