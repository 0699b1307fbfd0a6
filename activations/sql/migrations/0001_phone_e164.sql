-- The phone lookup staging joins (dbt source cohortflow_state.phone_e164), filled by
-- activations/phones.py: SQL cannot parse phone numbers portably, the phonenumbers library can.
create table if not exists {state_schema}.phone_e164 (
    phone_raw varchar not null,
    region varchar not null,
    phone_e164 varchar,
    reason varchar,
    primary key (phone_raw, region)
);
