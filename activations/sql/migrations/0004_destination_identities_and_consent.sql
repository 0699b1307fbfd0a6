-- A destination's own id for a key we sent (e.g. Klaviyo's profile id for an email), learned from
-- the destination's answers; list membership calls take these ids, not emails.
create table {state_schema}.destination_profiles (
    destination varchar not null,
    destination_key varchar not null,
    profile_id varchar not null,
    learned_at timestamp not null
);

-- Marketing consent a destination acknowledged from us, per channel and address. Consent is only
-- ever granted where the warehouse's latest consent says 'subscribed', and only what cohortflow
-- granted is ever revoked.
create table {state_schema}.sync_consents (
    destination varchar not null,
    channel varchar not null,
    address varchar not null,
    status varchar not null,
    synced_at timestamp not null
);
