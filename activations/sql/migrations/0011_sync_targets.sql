-- Where each segment's members are kept at a destination (Klaviyo: the list's name; Omnisend: the
-- tag), as of what the ledger holds. When a segment's YAML names another list or tag, the members
-- the ledger holds are removed from this one before they are added to the new one, and only then
-- does this row name the new one.
create table {state_schema}.sync_targets (
    destination varchar not null,
    segment varchar not null,
    target varchar not null,
    recorded_at timestamp not null
);
