"""Blocking checks that stand between the warehouse and any sync.

- `raw_quality`: the Great Expectations suites of the raw sources (completeness, freshness,
  duplicate keys; thresholds from the dbt sources), one asset check per check and raw table.
  Blocking: on a broken load nothing downstream runs, not even the dbt build.
- `sync_payload_quality`: the checks of what the syncs would send (keys, trait sizes, consent,
  segment volume, segments' declared expectations), on membership_changes. Blocking: the
  activation assets do not run while one fails unapproved.
- `mass_removal_gate`: fails when a destination would lose more than `max_exit_fraction` of the
  members it holds from cohortflow, unless that exact plan was approved.

dbt tests are asset checks on the dbt assets already (dagster-dbt). Check results carry the
failing subjects, samples and failure ids as metadata; `cohortflow approve <id>` accepts one.
"""

# No `from __future__ import annotations`: Dagster inspects the annotations at definition time.

from collections.abc import Iterable, Sequence

import dagster as dg

from activations.instants import refuse_future
from activations.planner import SyncPlan, build_plan
from activations.quality.config import raw_table_checks
from activations.quality.gate import Part, run_checks
from activations.quality.results import CheckReport, CheckResult
from activations.segment_config import load_segment_configs
from activations.warehouse import connect
from orchestration.changes import MEMBERSHIP_CHANGES_KEY, membership_changes
from orchestration.dbt import DBT_ASSETS_NAME, dbt_project
from orchestration.raw import WAREHOUSE_POOL, raw_asset_key
from orchestration.resources import WarehouseResource
from orchestration.run_instant import configured_allow_future, configured_as_of, run_as_of


def gate_result(plan: SyncPlan) -> dg.AssetCheckResult:
    """The check result for a plan: failed with every blocked segment's reason, else passed."""
    blocked = plan.blocked
    rows = [
        f"| {p.destination} | {p.segment} | {p.held:,} | {p.departures:,} | "
        f"{p.exit_fraction:.0%} | {p.max_exit_fraction:.0%} | {'BLOCKED' if p.blocked else 'ok'} "
        f"| `{p.plan_id}` |"
        for p in plan.segments
    ]
    table = "\n".join(
        [
            "| destination | segment | held | leaving | share | max | status | plan id |",
            "| --- | --- | ---: | ---: | ---: | ---: | --- | --- |",
            *rows,
        ]
    )
    return dg.AssetCheckResult(
        passed=not blocked,
        severity=dg.AssetCheckSeverity.ERROR,
        description=" ".join(p.block_reason or "" for p in blocked) or "No plan removes too much.",
        metadata={
            "plans": dg.MetadataValue.md(table),
            "blocked": len(blocked),
            "run_id": plan.run_id or "",
        },
    )


@dg.asset_check(
    asset=membership_changes, blocking=True, name="mass_removal_gate", pool=WAREHOUSE_POOL
)
def mass_removal_gate(warehouse: WarehouseResource) -> dg.AssetCheckResult:
    """Fail when a sync would remove more than max_exit_fraction of a destination's members."""
    settings = warehouse.settings()
    configs = load_segment_configs(dbt_project().manifest_path)
    with connect(settings.warehouse) as connection:
        plan = build_plan(connection, state_schema=settings.state_schema, configs=configs)
    return gate_result(plan)


RAW_CHECKS = {
    "raw_completeness": "Row count against min_rows and the last accepted count (max_row_drop).",
    "raw_freshness": "Newest loaded_at_field against freshness.error_after at the run's as-of.",
    "raw_duplicates": "Share of rows sharing their key with another (max_duplicate_fraction).",
}
PAYLOAD_CHECKS = {
    "payload_null_keys": "Members without a destination key, per segment and destination.",
    "payload_invalid_keys": "Destination keys that are not a valid email or E.164 phone.",
    "payload_duplicate_keys": "Members sharing a destination key with another member.",
    "payload_trait_size": "Traits over the destination's per-profile size limit.",
    "segment_volume": "Entered + exited against the segment's size and recent runs.",
    "consent_sms": "Members routed to SMS without a subscribed SMS consent.",
    "consent_email": "Email consent held from cohortflow without any warehouse record.",
    "consent_sms_record": "SMS consent held from cohortflow without any warehouse record.",
    "segment_expectations": "Expectations segments declare in meta.cohortflow.checks.",
}


def _raw_specs() -> list[dg.AssetCheckSpec]:
    """A spec per raw table and check it has (freshness and duplicates only where configured)."""
    specs = []
    for table in raw_table_checks(dbt_project().manifest_path):
        names = ["raw_completeness"]
        if table.max_age is not None:
            names.append("raw_freshness")
        if table.max_duplicate_fraction is not None:
            names.append("raw_duplicates")
        specs += [
            dg.AssetCheckSpec(
                name, asset=raw_asset_key(table.table), description=RAW_CHECKS[name], blocking=True
            )
            for name in names
        ]
    return specs


def check_results(
    report: CheckReport, specs: Iterable[dg.AssetCheckSpec], subject_of: dict[dg.AssetKey, str]
) -> Iterable[dg.AssetCheckResult]:
    """One Dagster result per spec from cohortflow's results for that check (and raw table)."""
    for spec in specs:
        subject = subject_of.get(spec.asset_key)
        matching = [
            r
            for r in report.results
            if _check_name(r) == spec.name and (subject is None or r.subject == subject)
        ]
        yield check_result(spec, matching)


def _check_name(result: CheckResult) -> str:
    known = {*RAW_CHECKS, *PAYLOAD_CHECKS}
    return result.check if result.check in known else "segment_expectations"


def check_result(spec: dg.AssetCheckSpec, results: Sequence[CheckResult]) -> dg.AssetCheckResult:
    """Failed with ERROR (blocking) when a result holds syncs, with WARN when one failed but does
    not hold (non-blocking or approved is reported, never hidden), else passed."""
    holding = [r for r in results if r.holds]
    failed = [r for r in results if r.status == "failed"]
    rows = [f"| {r.subject} | {r.label} | {r.message} | {r.failure_id or ''} |" for r in results]
    table = "\n".join(
        ["| subject | status | finding | failure id |", "| --- | --- | --- | --- |", *rows]
    )
    samples = [f"{r.subject}: {r.samples_text}" for r in failed if r.samples]
    description = (
        " ".join(
            f"{r.subject}: {r.message}"
            + (f" If the data is right: `cohortflow approve {r.failure_id}`." if r.holds else "")
            for r in holding or failed
        )
        or f"{len(results)} subject(s) passed."
    )
    return dg.AssetCheckResult(
        asset_key=spec.asset_key,
        check_name=spec.name,
        passed=not holding and not any(not r.blocking for r in failed),
        severity=dg.AssetCheckSeverity.ERROR if holding else dg.AssetCheckSeverity.WARN,
        description=description,
        metadata={
            "results": dg.MetadataValue.md(table),
            "failed": len(failed),
            "holding": len(holding),
            "samples": dg.MetadataValue.md("\n".join(f"- {line}" for line in samples) or "none"),
        },
    )


RAW_CHECK_SPECS = _raw_specs()
RAW_PARTS: tuple[Part, ...] = ("raw",)
PAYLOAD_PARTS: tuple[Part, ...] = ("payload", "state")


@dg.multi_asset_check(specs=RAW_CHECK_SPECS, name="raw_quality", pool=WAREHOUSE_POOL)
def raw_quality(
    context: dg.AssetCheckExecutionContext, warehouse: WarehouseResource
) -> Iterable[dg.AssetCheckResult]:
    """The raw sources' suites before anything reads them, as of the instant the run's dbt
    build uses (freshness is judged at that instant)."""
    as_of = run_as_of(context.instance, context.run, configured_as_of(context.run, DBT_ASSETS_NAME))
    # The first step of a run: refuse a future as_of here, in the build's words, rather than
    # report every raw table stale as of it.
    refuse_future(as_of, allow_future=configured_allow_future(context.run, DBT_ASSETS_NAME))
    report = run_checks(
        warehouse.settings(),
        configs={},
        parts=RAW_PARTS,
        as_of=as_of,
        manifest_path=dbt_project().manifest_path,
    )
    subjects = {spec.asset_key: f"raw.{spec.asset_key.path[-1]}" for spec in RAW_CHECK_SPECS}
    yield from check_results(report, RAW_CHECK_SPECS, subjects)


PAYLOAD_CHECK_SPECS = [
    dg.AssetCheckSpec(name, asset=MEMBERSHIP_CHANGES_KEY, description=text, blocking=True)
    for name, text in PAYLOAD_CHECKS.items()
]


@dg.multi_asset_check(specs=PAYLOAD_CHECK_SPECS, name="sync_payload_quality", pool=WAREHOUSE_POOL)
def sync_payload_quality(warehouse: WarehouseResource) -> Iterable[dg.AssetCheckResult]:
    """What the syncs would send, checked against the run change detection just recorded."""
    project = dbt_project()
    report = run_checks(
        warehouse.settings(),
        configs=load_segment_configs(project.manifest_path),
        parts=PAYLOAD_PARTS,
        manifest_path=project.manifest_path,
    )
    yield from check_results(report, PAYLOAD_CHECK_SPECS, {})


def defs() -> dg.Definitions:
    """The blocking checks."""
    return dg.Definitions(asset_checks=[raw_quality, sync_payload_quality, mass_removal_gate])
