"""The jobs under Dagster's default multiprocess executor: each step in its own process.

`materialize()` and `execute_in_process` run every step in one process, one after another, and
so cannot show what the pool is for. Here DuckDB runs `activate` through the CLI, syncing into
the Klaviyo sandbox on loopback, and the run's event log shows that no two steps touching the
file ran at once; PostgreSQL runs it the same way with the pool's limit raised to 4, and no step
waits. Each run costs about a minute of step start-ups, so there are two.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import dagster as dg
import pytest
import sqlalchemy as sa
from dagster._core.instance.ref import InstanceRef

from activations.sandbox import SandboxServer
from activations.sandbox.klaviyo import KlaviyoSandbox
from orchestration.jobs import refresh_run_config
from orchestration.raw import WAREHOUSE_POOL
from tests.support.dagster_runs import (
    activate_job,
    check_evaluations,
    dagster_home,
    overlapping,
    pool_waits,
    step_spans,
    warehouse_steps,
)

pytestmark = pytest.mark.integration

AS_OF = "2026-06-30T12:00:00Z"
BIN = Path(sys.executable).parent
API_KEY = "pk_multiprocess_1"
# Checks of both blocking steps on membership_changes (the gate and the payload checks): ready
# at the same moment, they would open the DuckDB file together without the pool.
MEMBERSHIP_CHECKS = {"mass_removal_gate", "payload_null_keys", "segment_volume"}


@pytest.fixture(scope="module")
def raw_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small synthetic store whose orders and events are fresh at AS_OF (raw_freshness)."""
    folder = tmp_path_factory.mktemp("multiprocess") / "raw"
    until = AS_OF.removesuffix("Z")
    generate = ["generate", "--persons", "500", "--seed", "7", "--until", until]
    subprocess.run([str(BIN / "cohortflow"), *generate, "--out", str(folder)], check=True)
    return folder


def _load(raw: Path, location: str) -> None:
    env = {**os.environ, "COHORTFLOW_WAREHOUSE": location}
    load = [str(BIN / "cohortflow"), "load", "--raw-dir", str(raw)]
    subprocess.run(load, env=env, check=True, capture_output=True)


def _recorded_runs(location: str) -> list[tuple[str, int]]:
    url = location if location.startswith("postgresql") else f"duckdb:///{location}"
    engine = sa.create_engine(url)
    try:
        with engine.connect() as connection:
            rows = connection.exec_driver_sql(
                "select run_id, entered from cohortflow_state.membership_runs"
            ).all()
    finally:
        engine.dispose()
    return [(str(run_id), int(entered)) for run_id, entered in rows]


@pytest.fixture
def klaviyo() -> Iterator[tuple[KlaviyoSandbox, str]]:
    sandbox = KlaviyoSandbox(api_key=API_KEY, time_scale=1000.0)
    with SandboxServer(sandbox.app) as server:
        yield sandbox, server.url


def _execute_activate(
    home: Path, tmp_path: Path, **environ: str
) -> subprocess.CompletedProcess[str]:
    """`dagster job execute -j activate` as a user runs it, with this instance as DAGSTER_HOME."""
    config = tmp_path / "run_config.yaml"
    config.write_text(json.dumps(refresh_run_config(AS_OF)), encoding="utf-8")  # JSON is YAML
    env = {
        **os.environ,
        "DAGSTER_HOME": str(home),
        "DBT_TARGET_PATH": str(tmp_path / "dbt_target"),
        **environ,
    }
    command = [str(BIN / "dagster"), "job", "execute", "-m", "orchestration.definitions"]
    command += ["-a", "defs", "-j", "activate", "-c", str(config)]
    return subprocess.run(
        command, cwd=tmp_path, env=env, capture_output=True, text=True, check=False
    )


def test_activate_on_duckdb_from_the_cli_runs_warehouse_steps_one_at_a_time(
    raw_dir: Path, tmp_path: Path, klaviyo: tuple[KlaviyoSandbox, str]
) -> None:
    sandbox, sandbox_url = klaviyo
    warehouse = str(tmp_path / "warehouse.duckdb")
    _load(raw_dir, warehouse)
    home = dagster_home(tmp_path / "dagster_home")

    result = _execute_activate(
        home,
        tmp_path,
        COHORTFLOW_WAREHOUSE=warehouse,
        KLAVIYO_API_KEY=API_KEY,
        KLAVIYO_BASE_URL=sandbox_url,
        COHORTFLOW_TIME_SCALE="1000",
    )

    assert result.returncode == 0, result.stderr[-5000:]
    with dg.DagsterInstance.from_ref(InstanceRef.from_dir(str(home))) as instance:
        (run,) = instance.get_runs()
        assert run.status == dg.DagsterRunStatus.SUCCESS
        spans = step_spans(instance, run.run_id)
        checks = check_evaluations(instance, run.run_id)
        waited = pool_waits(instance, run.run_id)
    pooled = warehouse_steps(activate_job())
    assert pooled <= set(spans), f"steps that did not run: {pooled - set(spans)}"
    assert overlapping([spans[step] for step in pooled]) == []
    assert waited, "two steps were ready together; one must have waited for the pool"
    assert MEMBERSHIP_CHECKS <= set(checks) and all(checks.values()), checks
    ((run_id, entered),) = _recorded_runs(warehouse)
    assert entered > 0
    members = {name: sandbox.state.list_members(name) for name in sandbox.state.lists.values()}
    assert any(members.values()), "the sync sent nobody"
    assert run_id.startswith("20260630T120000")


def test_activate_on_postgres_from_the_cli_with_a_raised_pool_limit(
    raw_dir: Path, tmp_path: Path, postgres_url: str
) -> None:
    _load(raw_dir, postgres_url)
    home = dagster_home(tmp_path / "dagster_home")
    # What `dagster instance concurrency set cohortflow_warehouse 4` does.
    with dg.DagsterInstance.from_ref(InstanceRef.from_dir(str(home))) as instance:
        instance.event_log_storage.set_concurrency_slots(WAREHOUSE_POOL, 4)

    # No Klaviyo key: that sync is skipped as "not configured".
    result = _execute_activate(home, tmp_path, COHORTFLOW_WAREHOUSE=postgres_url)

    assert result.returncode == 0, result.stderr[-5000:]
    with dg.DagsterInstance.from_ref(InstanceRef.from_dir(str(home))) as instance:
        (run,) = instance.get_runs()
        assert run.status == dg.DagsterRunStatus.SUCCESS
        checks = check_evaluations(instance, run.run_id)
        waited = pool_waits(instance, run.run_id)
    assert MEMBERSHIP_CHECKS <= set(checks) and all(checks.values()), checks
    assert waited == [], "with 4 slots no step of one run waits"
    ((run_id, entered),) = _recorded_runs(postgres_url)
    assert entered > 0 and run_id.startswith("20260630T120000")
