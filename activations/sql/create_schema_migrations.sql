create table if not exists {state_schema}.schema_migrations (
    version integer not null primary key,
    name varchar not null,
    applied_at timestamp not null
)
