"""Dagster refuses the as_of the CLI refuses, before the dbt build: one in the future (unless
the op config says `allow_future`), and one before the last recorded run, which would otherwise
rebuild the models in the past and only then be refused by change detection."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

import dagster as dg
import duckdb
import pytest

from orchestration.definitions import defs
from orchestration.jobs import AS_OF_OPS, refresh_run_config

pytestmark = pytest.mark.integration

FUTURE = "2030-01-01T00:00:00Z"
AS_OF = "2026-06-30T12:00:00Z"
EARLIER = "2026-06-30T06:00:00Z"


def _refresh(instance: dg.DagsterInstance, run_config: dict[str, Any]) -> Any:
    return defs.resolve_job_def("refresh").execute_in_process(
        run_config=run_config, instance=instance, raise_on_error=False
    )


def _failure(result: Any) -> str:
    """The failed step's error with its causes: what the run's log shows a user."""
    (event,) = [e for e in result.all_events if e.event_type_value == "STEP_FAILURE"]
    error, messages = event.event_specific_data.error, []
    while error is not None:
        messages.append(str(error.message))
        error = error.cause
    return "\n".join(messages)


def _built_as_of(warehouse: Path) -> list[datetime]:
    connection = duckdb.connect(str(warehouse), read_only=True)
    try:
        tables = connection.execute(
            "select count(*) from information_schema.tables where table_schema = 'analytics'"
        ).fetchone()
        if not tables or not tables[0]:
            return []
        return [
            row[0]
            for row in connection.execute(
                "select distinct as_of from analytics.person_lifecycle"
            ).fetchall()
        ]
    finally:
        connection.close()


def test_a_future_as_of_needs_allow_future_and_a_backfill_is_refused_before_the_build(
    raw_warehouse: Path,
) -> None:
    instance = dg.DagsterInstance.ephemeral()

    refused = _refresh(instance, refresh_run_config(FUTURE))
    assert not refused.success
    assert "is in the future" in _failure(refused)
    assert "allow_future: true" in _failure(refused)
    assert _built_as_of(raw_warehouse) == []  # nothing was built

    # Allowed, the instant gets past the guard: the tiny store (last order 2026-06-29) is then
    # judged stale as of 2030 by the raw freshness check, a failure of the data, not of as_of.
    allowed = refresh_run_config(FUTURE)
    for op in AS_OF_OPS:
        allowed["ops"][op]["config"]["allow_future"] = True  # type: ignore[index]
    let_through = _refresh(instance, allowed)
    assert "in the future" not in _failure(let_through)
    assert "raw_freshness" in _failure(let_through)

    assert _refresh(instance, refresh_run_config(AS_OF)).success
    assert _built_as_of(raw_warehouse) == [datetime(2026, 6, 30, 12)]
    backfill = _refresh(instance, refresh_run_config(EARLIER))
    assert not backfill.success
    assert "before the last recorded run" in _failure(backfill)
    assert "cohortflow runs undo" in _failure(backfill)
    assert _built_as_of(raw_warehouse) == [datetime(2026, 6, 30, 12)]  # models not replaced
