"""The mass-removal gate as a blocking Dagster check: passes on a healthy refresh, fails with the
blocked segment, its counts and the approval command when a plan removes too much."""

from __future__ import annotations

from pathlib import Path

import dagster as dg
import pytest

from activations.planner import SegmentPlan, SyncPlan
from orchestration.checks import gate_result
from orchestration.definitions import defs
from orchestration.jobs import refresh_run_config


def _plan(departures: int, held: int, approved: bool = False) -> SegmentPlan:
    return SegmentPlan(
        destination="klaviyo",
        segment="vip",
        key="email",
        plan_id="plan-abc",
        held=held,
        adds=0,
        removes=departures,
        departures=departures,
        updates=0,
        entered_events=0,
        exited_events=0,
        unroutable=0,
        retrying=0,
        quarantined=0,
        max_exit_fraction=0.5,
        approved=approved,
        has_baseline=True,
    )


def test_the_gate_fails_with_the_segment_counts_and_how_to_approve() -> None:
    result = gate_result(SyncPlan(run_id="r1", segments=(_plan(8, 10),)))
    assert not result.passed
    assert "klaviyo/vip" in (result.description or "")
    assert "8 of the 10" in (result.description or "")
    assert "cohortflow approve plan-abc" in (result.description or "")
    assert result.metadata["blocked"].value == 1


def test_an_approved_or_small_removal_passes() -> None:
    plans = (_plan(8, 10, approved=True), _plan(5, 10))
    assert gate_result(SyncPlan(run_id="r1", segments=plans)).passed


@pytest.mark.integration
def test_a_healthy_refresh_passes_the_blocking_gate(raw_warehouse: Path) -> None:
    result = defs.resolve_job_def("refresh").execute_in_process(
        run_config=refresh_run_config("2026-06-30T12:00:00Z"),
        instance=dg.DagsterInstance.ephemeral(),
    )
    assert result.success
    gate = [e for e in result.get_asset_check_evaluations() if e.check_name == "mass_removal_gate"]
    assert len(gate) == 1 and gate[0].passed


@pytest.mark.integration
def test_a_broken_raw_load_stops_the_run_before_dbt_with_the_failing_checks(
    raw_warehouse: Path,
) -> None:
    import duckdb

    with duckdb.connect(str(raw_warehouse)) as connection:
        connection.execute("delete from raw.orders")
        connection.execute("insert into raw.products select * from raw.products")
    result = defs.resolve_job_def("refresh").execute_in_process(
        run_config=refresh_run_config("2026-06-30T12:00:00Z"),
        instance=dg.DagsterInstance.ephemeral(),
        raise_on_error=False,
    )

    assert not result.success
    evaluations = {
        (e.asset_key.path[-1], e.check_name): e for e in result.get_asset_check_evaluations()
    }
    orders = evaluations[("orders", "raw_completeness")]
    assert not orders.passed and orders.severity == dg.AssetCheckSeverity.ERROR
    assert "0 rows" in (orders.description or "")
    assert "cohortflow approve chk-" in (orders.description or "")
    assert not evaluations[("products", "raw_duplicates")].passed
    assert evaluations[("customers", "raw_completeness")].passed
    assert result.get_asset_materialization_events() == [], "nothing ran on the broken load"
