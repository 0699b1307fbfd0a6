-- Serialise migrations: two first runs at once would both try to create the state schema.
-- Released automatically at commit or rollback.
select pg_advisory_xact_lock(hashtext('cohortflow.state_migrations'))
