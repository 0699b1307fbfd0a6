-- Serialise change detection: a second run waits here until the first commits, so two runs never
-- diff against the same snapshot. Released automatically at commit or rollback.
select pg_advisory_xact_lock(hashtext('cohortflow.membership_state'))
