"""`make dev`: the UI on the chosen port, with an instance under the project that keeps its runs
and applies the project's pool limit."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import dagster as dg
import pytest
from dagster._core.instance.ref import InstanceRef

from orchestration.raw import WAREHOUSE_POOL

REPO_ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.skipif(shutil.which("make") is None, reason="needs GNU make")


def _make(*args: str, env: dict[str, str] | None = None) -> str:
    result = subprocess.run(
        ["make", "--no-print-directory", "-C", str(REPO_ROOT), *args],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, **(env or {})},
    )
    return result.stdout


def test_make_dev_serves_the_demo_on_port_3000_with_a_home_under_the_project() -> None:
    commands = " ".join(_make("-n", "dev").split())  # lines joined where `\` split them

    assert f"DAGSTER_HOME={REPO_ROOT / '.dagster'} " in commands
    assert "COHORTFLOW_WAREHOUSE='demo_data/warehouse.duckdb'" in commands
    assert "dagster dev -w workspace.yaml --port 3000" in commands


def test_make_dev_takes_the_port_and_the_warehouse_the_user_gives() -> None:
    url = "postgresql://cohortflow:s3cret@localhost:5432/shop?sslmode=disable"
    env = {"COHORTFLOW_WAREHOUSE": url}

    commands = " ".join(_make("-n", "dev", "PORT=3123", env=env).split())

    assert f"COHORTFLOW_WAREHOUSE='{url}'" in commands
    assert "dagster dev -w workspace.yaml --port 3123" in commands


def test_the_dev_home_applies_the_project_pool_limit_and_is_never_overwritten(
    tmp_path: Path,
) -> None:
    home = tmp_path / ".dagster"

    _make("dev-home", f"DEV_DAGSTER_HOME={home}")

    with dg.DagsterInstance.from_ref(InstanceRef.from_dir(str(home))) as instance:
        pools = instance.get_concurrency_config().pool_config
        assert pools.default_pool_limit == 1
        assert instance.event_log_storage.get_concurrency_info(WAREHOUSE_POOL).limit == 1
    assert (home / "dagster.yaml").resolve() == REPO_ROOT / "dagster.yaml"
    (home / "dagster.yaml").unlink()
    (home / "dagster.yaml").write_text("# edited by hand\n", encoding="utf-8")
    _make("dev-home", f"DEV_DAGSTER_HOME={home}")
    assert (home / "dagster.yaml").read_text(encoding="utf-8") == "# edited by hand\n"


def test_the_dev_home_is_not_committed() -> None:
    ignored = subprocess.run(
        ["git", "-C", str(REPO_ROOT), "check-ignore", ".dagster/", ".tmp_dagster_home_x1/"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert ignored.stdout.split() == [".dagster/", ".tmp_dagster_home_x1/"]
