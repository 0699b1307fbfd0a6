"""A broken upstream load is stopped before any HTTP call reaches Klaviyo; approving goes through.

The whole main job runs for real (load -> dbt build -> change detection -> checks -> sync) against
the Klaviyo sandbox on loopback; the sandbox's request log is the witness that nothing was sent.
"""

from __future__ import annotations

import getpass
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from activations.loader import load_raw_folder
from activations.pipeline import run_pipeline
from activations.planner import approve, build_plan
from activations.quality.gate import approve_failure
from activations.runner import sync_all
from activations.sandbox import SandboxServer
from activations.sandbox.klaviyo import KlaviyoSandbox
from activations.segment_config import load_segment_configs
from activations.settings import Settings
from activations.transform import MANIFEST_PATH
from activations.warehouse import Warehouse, connect
from tests.e2e.conftest import AS_OF

pytestmark = [pytest.mark.e2e, pytest.mark.integration]

KEY = "pk_quality_gate_3c9d"


@pytest.fixture
def sandbox() -> Iterator[tuple[KlaviyoSandbox, dict[str, str]]]:
    app = KlaviyoSandbox(api_key=KEY, time_scale=1000.0)
    with SandboxServer(app.app) as server:
        yield app, {"KLAVIYO_API_KEY": KEY, "KLAVIYO_BASE_URL": server.url}


def break_the_load(warehouse: Warehouse) -> None:
    """What a broken loader does: orders emptied, customers loaded twice, every email lost."""
    with connect(warehouse) as connection:
        connection.exec_driver_sql("delete from raw.orders")
        connection.exec_driver_sql("insert into raw.customers select * from raw.customers")
        for table in ("customers", "events", "consents", "message_events"):
            connection.exec_driver_sql(f"update raw.{table} set email = null")


def test_a_broken_load_sends_nothing_until_its_failures_are_approved(
    raw_store: Path, tmp_path: Path, sandbox: tuple[KlaviyoSandbox, dict[str, str]]
) -> None:
    app, environ = sandbox
    settings = Settings(
        warehouse=Warehouse.from_location(str(tmp_path / "w.duckdb")), report_dir=tmp_path / "qa"
    )
    load_raw_folder(settings.warehouse, raw_store)
    as_of = datetime.fromisoformat(AS_OF)
    first = run_pipeline(settings, as_of=as_of, environ=environ)
    assert first.syncs.checks is not None and not first.syncs.checks.holding
    assert sum(s.added for r in first.syncs.reports for s in r.segments) > 0
    requests_before = len(app.state.requests.log)
    members_before = {name: app.state.list_members(name) for name in ("VIPs", "Lapsed VIPs")}

    break_the_load(settings.warehouse)
    broken = run_pipeline(settings, as_of=as_of + timedelta(days=1), environ=environ)

    checks = broken.syncs.checks
    assert checks is not None
    holding = {(r.check, r.subject) for r in checks.holding}
    assert ("raw_completeness", "raw.orders") in holding
    assert ("raw_duplicates", "raw.customers") in holding
    assert any(check == "payload_null_keys" for check, _ in holding), holding
    (report,) = broken.syncs.reports
    assert {s.status for s in report.segments} == {"blocked"}
    assert all("cohortflow approve chk-" in (s.message or "") for s in report.segments)
    assert report.consent_held and "raw_completeness" in report.consent_held
    assert len(app.state.requests.log) == requests_before, "no HTTP call reached Klaviyo"
    report = (tmp_path / "qa" / "quality-report.html").read_text(encoding="utf-8")
    assert all(r.failure_id and r.failure_id in report for r in checks.holding)
    assert {n: app.state.list_members(n) for n in members_before} == members_before

    # The person in charge decides the data is right after all and approves each failure; the
    # mass-removal gate still asks separately for segments that would empty out.
    for result in checks.holding:
        assert result.failure_id is not None
        approve_failure(settings, result.failure_id, getpass.getuser())
    configs = load_segment_configs(MANIFEST_PATH)
    with connect(settings.warehouse) as connection:
        plan = build_plan(connection, state_schema=settings.state_schema, configs=configs)
        for segment_plan in plan.blocked:
            approve(
                connection,
                state_schema=settings.state_schema,
                configs=configs,
                plan_id=segment_plan.plan_id,
                approved_by="test",
            )
    approved = sync_all(settings, configs=configs, environ=environ)

    assert approved.checks is not None and not approved.checks.holding
    (report,) = approved.reports
    assert "blocked" not in {s.status for s in report.segments}
    assert len(app.state.requests.log) > requests_before
    assert sum(s.removed for s in report.segments) > 0, "the approved removals went out"
