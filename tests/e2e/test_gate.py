"""The mass-removal gate end to end: a broken upstream load empties a segment, the plan is held
with a message naming the segment, the counts and the approval command; approving releases it."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from activations.ledger import record_acks
from activations.planner import build_plan, plan_rows
from activations.rows import RowAck
from activations.segment_config import load_segment_configs
from activations.transform import MANIFEST_PATH
from activations.warehouse import Warehouse, connect
from tests.e2e.conftest import AS_OF, cohortflow, run_json

pytestmark = [pytest.mark.e2e, pytest.mark.integration]


def acknowledge_everything(location: str) -> None:
    """Stand in for a sync that succeeded: every planned row acknowledged."""
    configs = load_segment_configs(MANIFEST_PATH)
    with connect(Warehouse.from_location(location)) as connection:
        for plan in build_plan(
            connection, state_schema="cohortflow_state", configs=configs
        ).segments:
            acks = [
                RowAck(row.destination_key, row.person_id, "add", row.traits_hash, ok=True)
                for row in plan_rows(
                    connection, state_schema="cohortflow_state", plan=plan, kind="add"
                )
            ]
            record_acks(
                connection,
                state_schema="cohortflow_state",
                destination=plan.destination,
                segment=plan.segment,
                acks=acks,
            )


def test_an_emptied_segment_is_held_until_approved(raw_store: Path, tmp_path: Path) -> None:
    location = str(tmp_path / "w.duckdb")
    cohortflow("load", "--raw-dir", str(raw_store), warehouse=location)
    first = run_json("run", "--as-of", AS_OF, warehouse=location)
    plan = run_json("plan", warehouse=location)
    vip = next(p for p in plan["plans"] if p["segment"] == "vip")
    # Every VIP with an email is planned; one without is counted, never sent.
    assert vip["adds"] + vip["unroutable"] == first["segments"]["vip"] > 0
    assert not vip["blocked"]
    acknowledge_everything(location)

    # The orders extract arrives empty: every VIP "leaves".
    broken = tmp_path / "broken"
    shutil.copytree(raw_store, broken)
    orders = pq.read_table(broken / "orders.parquet")
    pq.write_table(orders.slice(0, 0), broken / "orders.parquet")
    cohortflow("load", "--raw-dir", str(broken), warehouse=location)
    run_json("run", "--as-of", "2026-07-01T12:00:00", warehouse=location)

    held = cohortflow("plan", "--json", warehouse=location, check=False)
    assert held.returncode == 2
    vip = next(p for p in json.loads(held.stdout)["plans"] if p["segment"] == "vip")
    assert vip["blocked"] and vip["removes"] == vip["held"] == vip["departures"] > 0
    human = cohortflow("plan", warehouse=location, check=False)
    assert "klaviyo/vip" in human.stderr and f"cohortflow approve {vip['plan_id']}" in human.stderr

    cohortflow("approve", vip["plan_id"], warehouse=location)
    after = json.loads(cohortflow("plan", "--json", warehouse=location, check=False).stdout)
    vip_after = next(p for p in after["plans"] if p["segment"] == "vip")
    assert vip_after["approved"] and not vip_after["blocked"]
