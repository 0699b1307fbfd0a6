-- Data-quality checks (activations/quality). Every evaluation appends one row per check and
-- subject; the last accepted observations are what the next evaluation compares against (raw row
-- counts, segment change fractions), and `cohortflow checks` reports the latest evaluation.
create table {state_schema}.check_results (
    check_run_id varchar not null,
    run_id varchar,
    checked_at timestamp not null,
    check_name varchar not null,
    subject varchar not null,
    status varchar not null,
    blocking boolean not null,
    observed double precision,
    threshold double precision,
    message varchar not null,
    failure_id varchar
);
create index check_results_by_check
    on {state_schema}.check_results (check_name, subject, checked_at);

-- Failures a person accepted (`cohortflow approve chk-...`): each covers exactly one failure of
-- one run, so the same check failing on the next run's data asks again.
create table {state_schema}.check_approvals (
    failure_id varchar not null,
    check_name varchar not null,
    subject varchar not null,
    approved_at timestamp not null,
    approved_by varchar not null
);
