"""`make dev`: the UI on the chosen port, with an instance under the project that keeps its runs
and applies the project's pool limit."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import dagster as dg
import pytest
from dagster._core.instance.ref import InstanceRef

from orchestration.raw import WAREHOUSE_POOL

REPO_ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.skipif(shutil.which("make") is None, reason="needs GNU make")


def _make(*args: str) -> str:
    result = subprocess.run(
        ["make", "--no-print-directory", "-C", str(REPO_ROOT), *args],
        capture_output=True,
        text=True,
        check=True,
    )
    return result.stdout


@pytest.mark.parametrize(("args", "port"), [((), "3000"), (("PORT=3123",), "3123")])
def test_make_dev_serves_on_port_with_a_home_under_the_project(
    args: tuple[str, ...], port: str
) -> None:
    commands = " ".join(_make("-n", "dev", *args).split())  # lines joined where `\` split them

    assert f"DAGSTER_HOME={REPO_ROOT / '.dagster'} " in commands
    assert f"dagster dev -w workspace.yaml --port {port}" in commands


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
