"""Change detection in Dagster: the refresh job records changes as of its dbt build's instant."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

import dagster as dg
import duckdb
import pytest

from activations.changes import CHANGE_KINDS
from activations.instants import parse_instant
from orchestration.changes import MEMBERSHIP_CHANGES_KEY, membership_changes, segment_names
from orchestration.definitions import defs
from orchestration.jobs import refresh_run_config
from orchestration.resources import WarehouseResource

pytestmark = pytest.mark.integration

AS_OF = "2026-06-30T12:00:00Z"


def _refresh(instance: dg.DagsterInstance, run_config: dict[str, Any] | None = None) -> Any:
    result = defs.resolve_job_def("refresh").execute_in_process(
        run_config=run_config or {}, instance=instance
    )
    assert result.success
    return result


def _metadata(result: Any) -> dict[str, Any]:
    """The membership_changes materialization's metadata, as plain values."""
    (event,) = result.asset_materializations_for_node(membership_changes.op.name)
    assert event.asset_key == MEMBERSHIP_CHANGES_KEY
    return {key: value.value for key, value in event.metadata.items()}


def _query(warehouse: Path, sql: str) -> list[tuple[Any, ...]]:
    connection = duckdb.connect(str(warehouse), read_only=True)
    try:
        return connection.execute(sql).fetchall()
    finally:
        connection.close()


def _segment_sizes(warehouse: Path) -> dict[str, int]:
    rows = _query(
        warehouse, "select segment, count(*) from analytics.segment_membership group by segment"
    )
    return {str(segment): int(size) for segment, size in rows}


def _lifecycle_as_of(warehouse: Path) -> datetime:
    """The as_of dbt built person_lifecycle with (the model stores it in every row)."""
    ((as_of,),) = _query(warehouse, "select distinct as_of from analytics.person_lifecycle")
    assert isinstance(as_of, datetime)
    return as_of


def test_first_refresh_records_entries_and_a_rerun_records_nothing(raw_warehouse: Path) -> None:
    instance = dg.DagsterInstance.ephemeral()

    first = _metadata(_refresh(instance, refresh_run_config(AS_OF)))

    sizes = _segment_sizes(raw_warehouse)
    assert sum(sizes.values()) > 0
    assert first["as_of"] == "2026-06-30T12:00:00Z"
    assert parse_instant(first["as_of"]) == _lifecycle_as_of(raw_warehouse)
    assert (first["entered"], first["exited"], first["updated"]) == (sum(sizes.values()), 0, 0)
    for segment in segment_names():
        assert first[f"{segment}/entered"] == sizes.get(segment, 0)
        assert (first[f"{segment}/exited"], first[f"{segment}/updated"]) == (0, 0)
    assert "| segment | entered | exited | updated |" in first["changes"]
    for segment, size in sizes.items():
        assert f"| {segment} | {size} | 0 | 0 |" in first["changes"]
    logged = _query(
        raw_warehouse,
        "select change, count(*) from cohortflow_state.membership_change_log group by change",
    )
    assert logged == [("entered", sum(sizes.values()))]

    second = _metadata(_refresh(instance, refresh_run_config(AS_OF)))

    assert second["as_of"] == first["as_of"]
    assert second["run_id"] != first["run_id"]
    assert [second[kind] for kind in CHANGE_KINDS] == [0, 0, 0]
    assert all(second[f"{segment}/{kind}"] == 0 for segment in sizes for kind in CHANGE_KINDS)
    runs = _query(
        raw_warehouse,
        "select run_id, as_of, entered, exited, updated from cohortflow_state.membership_runs "
        "order by recorded_at",
    )
    expected_as_of = parse_instant(AS_OF)
    assert runs == [
        (first["run_id"], expected_as_of, sum(sizes.values()), 0, 0),
        (second["run_id"], expected_as_of, 0, 0, 0),
    ]


def test_without_config_the_build_and_change_detection_share_the_run_instant(
    raw_warehouse: Path,
) -> None:
    instance = dg.DagsterInstance.ephemeral()
    with duckdb.connect(str(raw_warehouse)) as connection:
        # Unconfigured, the run computes as of now: a live store has orders and events from
        # today, or the raw freshness checks rightly stop the run.
        connection.execute("update raw.orders set ordered_at = now()::timestamp - interval 1 hour")
        connection.execute("update raw.events set occurred_at = now()::timestamp - interval 1 hour")

    result = _refresh(instance)

    record = instance.get_run_record_by_id(result.run_id)
    assert record is not None
    created = parse_instant(record.create_timestamp.isoformat())
    metadata = _metadata(result)
    assert parse_instant(metadata["as_of"]) == created == _lifecycle_as_of(raw_warehouse)
    assert metadata["entered"] == sum(_segment_sizes(raw_warehouse).values())
    ((recorded_as_of,),) = _query(
        raw_warehouse, "select as_of from cohortflow_state.membership_runs"
    )
    assert recorded_as_of == created

    # Materialized alone (a retry from failure, a click in the UI), change detection takes the
    # instant of the build that produced segment_membership, not the new run's.
    alone = dg.materialize(
        [membership_changes], instance=instance, resources={"warehouse": WarehouseResource()}
    )
    assert alone.success
    again = _metadata(alone)
    assert parse_instant(again["as_of"]) == created
    assert result.run_id in again["as_of_source"]
    assert [again[kind] for kind in CHANGE_KINDS] == [0, 0, 0]

    # An as_of that is not the build's is refused before anything is recorded.
    conflicting = dg.materialize(
        [membership_changes],
        instance=instance,
        resources={"warehouse": WarehouseResource()},
        run_config={"ops": {membership_changes.op.name: {"config": {"as_of": AS_OF}}}},
        raise_on_error=False,
    )
    assert not conflicting.success
    (failure,) = [e for e in conflicting.all_events if e.is_step_failure]
    assert "segment_membership was built with" in str(failure.step_failure_data.error)
    count = _query(raw_warehouse, "select count(*) from cohortflow_state.membership_runs")
    assert count == [(2,)]
