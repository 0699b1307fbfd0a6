insert into {state_schema}.schema_migrations (version, name, applied_at)
values (:version, :name, :applied_at)
