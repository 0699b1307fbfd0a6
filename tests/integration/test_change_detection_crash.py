"""Crash safety: a process killed (SIGKILL) at any step of change detection loses no change and
records none twice. The next run records exactly what the crashed one would have."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys

import pytest
import sqlalchemy as sa

from activations.failpoints import ENV_VAR
from activations.warehouse import Warehouse, connect

pytestmark = pytest.mark.integration

FAILPOINTS = [
    "after_change_log",
    "after_snapshot_delete",
    "after_snapshot_insert",
    "after_history",
    "before_commit",
]

# A child process: publish a membership as segment_membership, then detect changes.
CHILD = """
import json, sys
from datetime import datetime
import sqlalchemy as sa
from activations.changes import detect_changes
from activations.warehouse import Warehouse, connect

location, members, as_of = sys.argv[1], json.loads(sys.argv[2]), sys.argv[3]
warehouse = Warehouse.from_location(location)
with connect(warehouse, create=True) as connection:
    connection.exec_driver_sql("create schema if not exists analytics")
    connection.exec_driver_sql(
        "create table if not exists analytics.segment_membership (segment varchar, "
        "person_id varchar, email varchar, phone varchar, traits varchar, traits_hash varchar)"
    )
    connection.exec_driver_sql("delete from analytics.segment_membership")
    for segment, person_id, traits_hash in members:
        connection.execute(sa.text(
            "insert into analytics.segment_membership (segment, person_id, traits_hash) "
            "values (:s, :p, :h)"), {"s": segment, "p": person_id, "h": traits_hash})
with connect(warehouse) as connection:
    run = detect_changes(connection, state_schema="cohortflow_state",
                         models_schema="analytics", as_of=datetime.fromisoformat(as_of))
print(run.run_id)
"""

FIRST = [["vip", "p1", "h1"], ["vip", "p2", "h1"], ["at_risk", "p3", "h1"]]
SECOND = [["vip", "p1", "h2"], ["at_risk", "p3", "h1"], ["at_risk", "p4", "h1"]]


def detect_in_child(location: str, members: list[list[str]], as_of: str, failpoint: str = ""):
    env_extra = {ENV_VAR: failpoint} if failpoint else {}
    return subprocess.run(
        [sys.executable, "-c", CHILD, location, json.dumps(members), as_of],
        env={**os.environ, **env_extra},
        capture_output=True,
        text=True,
        check=False,
    )


def state(location: str) -> tuple[list[tuple[str, str, str]], list[tuple[str, str, str]], int]:
    with connect(Warehouse.from_location(location)) as connection:
        log = connection.execute(
            sa.text(
                "select segment, person_id, change from cohortflow_state.membership_change_log "
                "order by segment, person_id, change"
            )
        ).all()
        snapshot = connection.execute(
            sa.text(
                "select segment, person_id, traits_hash from cohortflow_state.membership_snapshot "
                "order by segment, person_id"
            )
        ).all()
        runs = connection.execute(
            sa.text("select count(*) from cohortflow_state.membership_runs")
        ).scalar_one()
    return [tuple(r) for r in log], [tuple(r) for r in snapshot], runs


@pytest.mark.parametrize("failpoint", FAILPOINTS)
def test_a_crash_at_any_step_neither_loses_nor_doubles_a_change(
    warehouse_location: str, failpoint: str
) -> None:
    assert detect_in_child(warehouse_location, FIRST, "2026-06-01T00:00:00").returncode == 0
    before = state(warehouse_location)

    crashed = detect_in_child(warehouse_location, SECOND, "2026-06-02T00:00:00", failpoint)
    assert crashed.returncode == -signal.SIGKILL, crashed.stderr
    assert state(warehouse_location) == before, "a killed run left partial state behind"

    recovered = detect_in_child(warehouse_location, SECOND, "2026-06-02T00:00:00")
    assert recovered.returncode == 0, recovered.stderr
    log, snapshot, runs = state(warehouse_location)
    assert runs == 2
    assert log == sorted(
        [
            ("at_risk", "p3", "entered"),
            ("vip", "p1", "entered"),
            ("vip", "p2", "entered"),
            ("at_risk", "p4", "entered"),
            ("vip", "p1", "updated"),
            ("vip", "p2", "exited"),
        ]
    )
    assert snapshot == [("at_risk", "p3", "h1"), ("at_risk", "p4", "h1"), ("vip", "p1", "h2")]


def test_failpoints_do_nothing_unless_named(warehouse_location: str) -> None:
    result = detect_in_child(warehouse_location, FIRST, "2026-06-01T00:00:00", "no_such_point")
    assert result.returncode == 0
    assert state(warehouse_location)[2] == 1


def test_run_ids_sort_by_as_of(warehouse_location: str) -> None:
    result = detect_in_child(warehouse_location, FIRST, "2026-06-01T00:00:00")
    assert result.stdout.strip().startswith("20260601T000000-")
