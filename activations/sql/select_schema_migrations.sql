select version from {state_schema}.schema_migrations
