"""Run every check before any sync, record the results, and say which syncs they hold.

The checks (docs/data-quality.md):

- Great Expectations suites computed in the warehouse (`suites`): raw completeness (rows, and
  each column's filled share from one aggregate query per table, `fill`), freshness and
  duplicate keys; the sync payload's null, invalid and duplicate keys, trait sizes and SMS
  consent; a segment's own declared expectations.
- SQL checks whose thresholds need history or state GX has no notion of: each segment's volume
  of change against its size and recent runs, and email consent a destination holds from
  cohortflow without any warehouse record.
- The dbt tests of the last build (`target/run_results.json`).

A blocking failure holds the syncs in its scope until its `failure_id` is approved; everything
else is reported. Results are appended to `check_results`, so the next evaluation compares raw
row counts, column fill and change volumes with the last accepted ones.
"""

from __future__ import annotations

import json
import statistics
import uuid
from collections.abc import Collection, Mapping, Sequence
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from sqlalchemy import bindparam, text
from sqlalchemy.engine import Connection

from activations.destinations.registry import registration
from activations.errors import CohortflowError
from activations.migrations import migrate
from activations.quality import fill
from activations.quality.config import raw_table_checks
from activations.quality.fill import ColumnFill
from activations.quality.report import write_report
from activations.quality.results import (
    STATUS_ORDER,
    CheckReport,
    CheckResult,
    CheckStatus,
    failure_id,
)
from activations.quality.suites import (
    Suite,
    payload_checks,
    payload_query,
    payload_suite,
    raw_suite,
    routes,
    sample_query,
    segment_suite,
)
from activations.quality.validation import validate_queries
from activations.queries import statement
from activations.raw_contract import RAW_TABLES_BY_NAME
from activations.readiness import present_tables, require_models
from activations.rows import Channel
from activations.segment_config import SegmentConfig, routed_destinations
from activations.settings import Settings
from activations.transform import MANIFEST_PATH, MODELS_SCHEMA, RUN_RESULTS_PATH
from activations.warehouse import connect


class CheckNotFound(CohortflowError):
    """No recorded check failure has the given id."""


Part = Literal["raw", "payload", "state", "dbt"]
PARTS: tuple[Part, ...] = ("raw", "payload", "state", "dbt")


def run_checks(
    settings: Settings,
    *,
    configs: Mapping[str, SegmentConfig],
    parts: Collection[Part] = PARTS,
    as_of: datetime | None = None,
    manifest_path: Path = MANIFEST_PATH,
    run_results_path: Path = RUN_RESULTS_PATH,
) -> CheckReport:
    """Evaluate the checks against the last recorded run, record the results, and write the
    Markdown and HTML report into `settings.report_dir` (when set).

    Args:
        parts: which checks: `raw` tables, the sync `payload` (with segments' declared
            expectations), `state` (segment volume, consent held), `dbt` test results.
            Dagster runs `raw` before the build and the rest after change detection.
        as_of: the instant raw freshness is judged at; default the last recorded run's as-of
            (now when no run is recorded).

    Raises:
        MetricsUnavailable: Great Expectations could not compute a metric.
        CheckConfigError: a threshold or declared expectation is invalid.
        WarehouseError: the warehouse cannot be reached.
    """
    state = settings.state_schema
    ids = {"state_schema": state, "models_schema": MODELS_SCHEMA}
    checked_at = datetime.now(UTC).replace(tzinfo=None)
    results: list[CheckResult] = []
    suites: list[Suite] = []
    columns: list[ColumnFill] = []
    with connect(settings.warehouse) as connection:
        if {"payload", "state"} & set(parts):
            require_models(connection)
        migrate(connection, state)
        run = _last_run(connection, state)
        run_id = run[0] if run is not None else None
        if as_of is None:
            as_of = run[1] if run is not None else checked_at
        if "raw" in parts:
            raw_suites, missing, columns = _raw_suites(
                connection, settings, ids, manifest_path, as_of, run_id
            )
            suites += raw_suites
            results += missing
        if "state" in parts:
            results += _volume(connection, ids, configs, run_id)
            results += _consent_without_record(connection, ids, configs)
    routed = routes(configs) if "payload" in parts else []
    if routed:
        suites.append(payload_suite(routed, settings.warehouse.kind))
    if "payload" in parts:
        suites += [suite for config in configs.values() if (suite := segment_suite(config))]
    if suites:
        outcomes = validate_queries(
            settings.warehouse,
            [
                (suite.name, suite.query, [item.expectation for item in suite.items])
                for suite in suites
            ],
            result_format="COMPLETE",
        )
        for suite, outcome in zip(suites, outcomes, strict=True):
            for item, expectation_result in zip(suite.items, outcome.results, strict=True):
                results += item.interpret(expectation_result)
    if "dbt" in parts:
        results += dbt_test_results(run_results_path)
    results = [_identified(result, run_id) for result in results]
    with connect(settings.warehouse) as connection:
        results = _with_samples(connection, settings, routed, results)
        results = _with_approvals(connection, state, results)
        report = CheckReport(
            check_run_id=uuid.uuid4().hex,
            run_id=run_id,
            checked_at=checked_at,
            results=tuple(sorted(results, key=_order)),
            warehouse=settings.warehouse.describe(),
        )
        _record(connection, state, report)
        _record_fill(connection, state, report, columns)
    if settings.report_dir is not None:
        write_report(report, settings.report_dir)
    return report


def _raw_suites(
    connection: Connection,
    settings: Settings,
    ids: Mapping[str, str],
    manifest_path: Path,
    as_of: datetime,
    run_id: str | None,
) -> tuple[list[Suite], list[CheckResult], list[ColumnFill]]:
    """A suite per raw table present with its columns as measured, and a failed completeness
    result per table missing."""
    raw_checks = raw_table_checks(manifest_path)
    # Observations accepted in earlier runs only: approving this run's count must not move the
    # bar this run is judged by (the approval would then never match the failure it approved).
    accepted_rows = _latest(
        [o for o in _accepted(connection, ids, "raw_completeness") if o[1] != run_id]
    )
    accepted_fill = _latest([o for o in _accepted_fill(connection, ids) if o[1] != run_id])
    present = present_tables(connection, settings.raw_schema)
    suites, columns = [], []
    for table in raw_checks:
        if table.table not in present:
            continue
        measured = fill.measure(
            connection, settings.raw_schema, RAW_TABLES_BY_NAME[table.table], table, accepted_fill
        )
        columns += measured
        suites.append(
            raw_suite(
                settings.raw_schema,
                table,
                as_of=as_of,
                accepted_rows=_as_int(accepted_rows.get(f"raw.{table.table}")),
                columns=measured,
            )
        )
    missing = [
        CheckResult(
            "raw_completeness",
            f"raw.{table.table}",
            "failed",
            table.blocking,
            f"the table does not exist in schema {settings.raw_schema}.",
        )
        for table in raw_checks
        if table.table not in present
    ]
    return suites, missing, columns


def _order(result: CheckResult) -> tuple[int, str, str]:
    return STATUS_ORDER.index(result.status), result.check, result.subject


def _identified(result: CheckResult, run_id: str | None) -> CheckResult:
    if result.status != "failed" or result.failure_id is not None:
        return result
    return replace(result, failure_id=failure_id(result, run_id))


# ---------------------------------------------------------------- state


def _last_run(connection: Connection, state: str) -> tuple[str, datetime] | None:
    row = connection.execute(
        statement(connection, "select_last_membership_run", state_schema=state)
    ).first()
    return None if row is None else (str(row.run_id), row.as_of)


def _accepted(
    connection: Connection, ids: Mapping[str, str], check: str
) -> list[tuple[str, str | None, float]]:
    """(subject, run id, observed) of a check's accepted observations, newest first."""
    query = statement(connection, "select_accepted_observations", state_schema=ids["state_schema"])
    return [
        (str(row.subject), row.run_id, float(row.observed))
        for row in connection.execute(query, {"check_name": check})
    ]


def _accepted_fill(
    connection: Connection, ids: Mapping[str, str]
) -> list[tuple[str, str | None, float]]:
    """(column subject, run id, filled share) of raw columns as accepted loads had them, newest
    first."""
    query = statement(connection, "select_accepted_fill", state_schema=ids["state_schema"])
    parameters = {"verdict_check": "raw_completeness", "observation_check": fill.FILL_OBSERVATION}
    return [
        (str(row.subject), row.run_id, float(row.observed))
        for row in connection.execute(query, parameters)
    ]


def _latest(observations: Sequence[tuple[str, str | None, float]]) -> dict[str, float]:
    latest: dict[str, float] = {}
    for subject, _, observed in observations:
        latest.setdefault(subject, observed)
    return latest


def _as_int(value: float | None) -> int | None:
    return None if value is None else int(value)


def _record(connection: Connection, state: str, report: CheckReport) -> None:
    rows = [
        {
            "check_run_id": report.check_run_id,
            "run_id": report.run_id,
            "checked_at": report.checked_at,
            "check_name": result.check,
            "subject": result.subject,
            "status": result.status,
            "blocking": result.blocking,
            "observed": result.observed,
            "threshold": result.threshold,
            "message": result.message,
            "failure_id": result.failure_id,
        }
        for result in report.results
    ]
    if rows:
        connection.execute(statement(connection, "insert_check_result", state_schema=state), rows)


def _record_fill(
    connection: Connection, state: str, report: CheckReport, columns: Sequence[ColumnFill]
) -> None:
    """Each column's share beside its table's `raw_completeness` result: observations, not
    results (the table's result holds and is approved as one), which become history when that
    result is accepted."""
    blocking = {r.subject: r.blocking for r in report.results if r.check == "raw_completeness"}
    rows = [
        {
            "check_run_id": report.check_run_id,
            "run_id": report.run_id,
            "checked_at": report.checked_at,
            "check_name": fill.FILL_OBSERVATION,
            "subject": column.subject,
            "status": "failed" if column.failed else "passed",
            "blocking": blocking.get(f"raw.{column.table}", True),
            "observed": column.share if column.rows else None,
            "threshold": column.floor,
            "message": f"{column.filled:,} of {column.rows:,} rows filled.",
            "failure_id": None,
        }
        for column in columns
    ]
    if rows:
        connection.execute(statement(connection, "insert_check_result", state_schema=state), rows)


def _with_approvals(
    connection: Connection, state: str, results: Sequence[CheckResult]
) -> list[CheckResult]:
    ids = sorted({r.failure_id for r in results if r.failure_id})
    if not ids:
        return list(results)
    query = statement(connection, "select_check_approvals", state_schema=state).bindparams(
        bindparam("failure_ids", expanding=True)
    )
    approved = {
        str(row.failure_id): str(row.approved_by)
        for row in connection.execute(query, {"failure_ids": ids})
    }
    return [
        replace(result, approved_by=approved[result.failure_id])
        if result.failure_id in approved
        else result
        for result in results
    ]


def approve_failure(settings: Settings, failure: str, approved_by: str) -> dict[str, Any]:
    """Accept one recorded check failure, so the syncs it held may go out for that run.

    Raises:
        CheckNotFound: no recorded failure has that id.
    """
    with connect(settings.warehouse) as connection:
        migrate(connection, settings.state_schema)
        row = connection.execute(
            statement(connection, "select_check_failure", state_schema=settings.state_schema),
            {"failure_id": failure},
        ).first()
        if row is None:
            raise CheckNotFound(
                f"no check failure has id {failure}: run `cohortflow checks` for the current "
                "failures and their ids."
            )
        connection.execute(
            statement(connection, "insert_check_approval", state_schema=settings.state_schema),
            {
                "failure_id": failure,
                "check_name": row.check_name,
                "subject": row.subject,
                "approved_at": datetime.now(UTC).replace(tzinfo=None),
                "approved_by": approved_by,
            },
        )
    return {"check": row.check_name, "subject": row.subject, "message": row.message}


# ---------------------------------------------------------------- SQL checks


def _volume(
    connection: Connection,
    ids: Mapping[str, str],
    configs: Mapping[str, SegmentConfig],
    run_id: str | None,
) -> list[CheckResult]:
    """Each synced segment's entered + exited against its size before the run, with a bound
    loosened (never tightened) for segments whose history shows they routinely move more."""
    if run_id is None:
        return []
    history: dict[str, dict[str | None, float]] = {}
    for subject, observed_run, share in _accepted(connection, ids, "segment_volume"):
        if observed_run != run_id:  # one observation per earlier run, the newest
            history.setdefault(subject, {}).setdefault(observed_run, share)
    rows = {
        str(row.segment): row
        for row in connection.execute(
            statement(connection, "select_segment_volume", **ids), {"run_id": run_id}
        )
    }
    results = []
    for segment, config in configs.items():
        if not config.destinations:
            continue
        subject = f"segment {segment}"
        earlier = connection.execute(
            statement(connection, "select_earlier_check_result", state_schema=ids["state_schema"]),
            {"check_name": "segment_volume", "subject": subject, "run_id": run_id},
        ).first()
        if earlier is not None and _still_holding(earlier):
            # The sync sends everything since the destination last heard from us, so a jump held
            # in one run is still in the next run's plan: it holds until someone approves it.
            results.append(
                CheckResult(
                    check="segment_volume",
                    subject=subject,
                    status="failed",
                    blocking=True,
                    message=f"still held since run {earlier.run_id}: {earlier.message}",
                    segment=segment,
                    failure_id=str(earlier.failure_id),
                )
            )
            continue
        results.append(
            _volume_result(
                config, subject, rows.get(segment), history.get(subject, {}), earlier is None
            )
        )
    return results


def _still_holding(earlier: Any) -> bool:
    return bool(
        earlier.status == "failed"
        and earlier.blocking
        and earlier.failure_id
        and not earlier.approved
    )


def _volume_result(
    config: SegmentConfig,
    subject: str,
    row: Any,
    history: Mapping[str | None, float],
    first_check: bool,
) -> CheckResult:
    """This run's movement of one segment against its size before the run and its history."""
    checks = config.checks
    members, entered, exited = (
        (int(row.members), int(row.entered), int(row.exited)) if row else (0, 0, 0)
    )
    before = members - entered + exited
    moved = entered + exited
    past = list(history.values())[: checks.history_runs]
    bound = checks.max_change_fraction
    if len(past) >= 3:
        bound = max(bound, checks.history_factor * statistics.median(past))
    status: CheckStatus
    if before == 0 and exited == 0 and first_check:
        status, message = "passed", f"first run of the segment ({entered:,} entered)."
    elif max(before, members) < checks.min_members:
        status = "passed"
        message = (
            f"{before:,} → {members:,} members: too small to judge ({checks.min_members} needed)."
        )
    else:
        share = moved / before if before else float("inf")
        status = "failed" if share > bound else "passed"
        shown = f"{share:.0%}" if before else "all new, the segment was empty"
        message = (
            f"{entered:,} entered and {exited:,} exited of {before:,} members "
            f"({shown} moved); at most {bound:.0%} expected"
            + (
                f" (history: median {statistics.median(past):.0%} over {len(past)} runs)."
                if len(past) >= 3
                else "."
            )
        )
    return CheckResult(
        check="segment_volume",
        subject=subject,
        status=status,
        blocking=checks.is_blocking("segment_volume"),
        message=message,
        observed=moved / before if before else None,
        threshold=bound,
        segment=config.segment,
    )


# The check saying a destination holds consent from cohortflow on a channel with no warehouse
# record of it (`consent_sms` is another check: members routed to the SMS destination).
CONSENT_RECORD_CHECKS: Mapping[Channel, str] = {
    "email": "consent_email",
    "sms": "consent_sms_record",
}


def _consent_without_record(
    connection: Connection, ids: Mapping[str, str], configs: Mapping[str, SegmentConfig]
) -> list[CheckResult]:
    """Per destination and channel it carries consent on: no consent held from cohortflow may
    lack a warehouse record (a consents load that lost rows must not leave people subscribed on
    our word)."""
    found: dict[tuple[str, str], list[str]] = {}
    for row in connection.execute(statement(connection, "select_consent_without_record", **ids)):
        found.setdefault((str(row.destination), str(row.channel)), []).append(str(row.address))
    results = []
    for destination in routed_destinations(configs):
        for channel in registration(destination).consent_channels:
            addresses = found.get((destination, channel), [])
            label = "email" if channel == "email" else "SMS"
            results.append(
                CheckResult(
                    check=CONSENT_RECORD_CHECKS[channel],
                    subject=f"{destination} {label} consent",
                    status="failed" if addresses else "passed",
                    blocking=True,
                    message=(
                        f"{len(addresses):,} address(es) hold {label} consent from cohortflow "
                        "with no consent record in the warehouse."
                        if addresses
                        else f"every {label} consent cohortflow granted has a warehouse record."
                    ),
                    observed=float(len(addresses)),
                    threshold=0.0,
                    destination=destination,
                    samples=tuple({"address": mask(address)} for address in addresses[:5]),
                )
            )
    return results


# ---------------------------------------------------------------- dbt tests


def dbt_test_results(run_results_path: Path) -> list[CheckResult]:
    """The dbt tests of the last build: failed or errored ones fail (blocking), warnings warn."""
    if not run_results_path.is_file():
        return [
            CheckResult(
                "dbt_tests",
                "dbt build",
                "warned",
                False,
                "no dbt results found: run `cohortflow run` to build the models and their tests.",
            )
        ]
    results = json.loads(run_results_path.read_text(encoding="utf-8")).get("results", [])
    tests = [r for r in results if str(r.get("unique_id", "")).startswith("test.")]
    failed = [r for r in tests if r.get("status") in ("fail", "error")]
    warned = [r for r in tests if r.get("status") == "warn"]
    names = ", ".join(str(r["unique_id"]).split(".")[2] for r in (failed or warned)[:5])
    status: CheckStatus
    if failed:
        status, message = "failed", f"{len(failed)} of {len(tests)} dbt tests failed: {names}."
    elif warned:
        status, message = "warned", f"{len(warned)} of {len(tests)} dbt tests warned: {names}."
    else:
        status, message = "passed", f"all {len(tests)} dbt tests passed."
    return [
        CheckResult(
            "dbt_tests",
            "dbt build",
            status,
            True,
            message,
            observed=float(len(failed)),
            threshold=0.0,
        )
    ]


# ---------------------------------------------------------------- samples


def _with_samples(
    connection: Connection,
    settings: Settings,
    routed: Sequence[Any],
    results: Sequence[CheckResult],
) -> list[CheckResult]:
    """Attach a few offending rows to each failed payload check (keys masked)."""
    checks = {check.name: check for check in payload_checks(settings.warehouse.kind)}
    payload = payload_query(routed, settings.warehouse.kind) if routed else ""
    out = []
    for result in results:
        check = checks.get(result.check)
        if result.status == "failed" and check is not None and payload:
            rows = connection.execute(
                text(sample_query(check, payload)),
                {"segment": result.segment, "destination": result.destination},
            )
            samples = tuple(
                {
                    "person_id": str(row.person_id),
                    "key": mask(row.destination_key),
                    "traits_bytes": int(row.traits_bytes or 0),
                }
                for row in rows
            )
            result = replace(result, samples=samples)
        out.append(result)
    return out


def mask(value: Any) -> str | None:
    """An address shown in reports with most of it hidden: enough to recognise, not to use."""
    if value is None:
        return None
    text_value = str(value)
    if "@" in text_value:
        local, _, domain = text_value.partition("@")
        return f"{local[:2]}***@{domain}"
    return text_value[:4] + "***" + text_value[-2:] if len(text_value) > 6 else "***"
