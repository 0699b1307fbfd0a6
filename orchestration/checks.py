"""Blocking checks that stand between change detection and any sync.

`mass_removal_gate` builds the sync plan (activations.planner) and fails when a destination would
lose more than `max_exit_fraction` of the members it holds from cohortflow, unless that exact plan
was approved (`cohortflow approve <plan id>`). It is blocking, so the activation assets that will
follow membership_changes do not run on a broken upstream load.
"""

# No `from __future__ import annotations`: Dagster inspects the annotations at definition time.

import dagster as dg

from activations.planner import SyncPlan, build_plan
from activations.segment_config import load_segment_configs
from activations.warehouse import connect
from orchestration.changes import membership_changes
from orchestration.dbt import dbt_project
from orchestration.resources import WarehouseResource


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


@dg.asset_check(asset=membership_changes, blocking=True, name="mass_removal_gate")
def mass_removal_gate(warehouse: WarehouseResource) -> dg.AssetCheckResult:
    """Fail when a sync would remove more than max_exit_fraction of a destination's members."""
    settings = warehouse.settings()
    configs = load_segment_configs(dbt_project().manifest_path)
    with connect(settings.warehouse) as connection:
        plan = build_plan(connection, state_schema=settings.state_schema, configs=configs)
    return gate_result(plan)


def defs() -> dg.Definitions:
    """The blocking checks."""
    return dg.Definitions(asset_checks=[mass_removal_gate])
