"""Ctrl-C during `cohortflow run`, sent the way a terminal sends it, mid dbt build.

The user sees one line saying it was interrupted and exit status 130, with no traceback and no
warnings from teardown; the warehouse is neither locked nor half-written, so the same command
run again succeeds and records the run once.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import duckdb
import pytest

from tests.e2e.conftest import AS_OF, CLI, cohortflow, run_json
from tests.support.terminal import interrupt_when

# The progress display names each dbt node as it finishes: the build is under way.
BUILD_UNDER_WAY = "dbt: "


@pytest.fixture(scope="module")
def loaded_warehouse(raw_store: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The session's raw store loaded into a DuckDB file, once for the module."""
    warehouse = tmp_path_factory.mktemp("interrupt") / "warehouse.duckdb"
    cohortflow("load", "--raw-dir", str(raw_store), warehouse=str(warehouse))
    return warehouse


def test_ctrl_c_during_the_build_exits_130_and_the_next_run_succeeds(
    loaded_warehouse: Path, tmp_path: Path
) -> None:
    warehouse = tmp_path / "warehouse.duckdb"
    shutil.copy(loaded_warehouse, warehouse)
    env = {**os.environ, "COHORTFLOW_WAREHOUSE": str(warehouse), "COLUMNS": "120"}

    ended = interrupt_when([CLI, "run", "--as-of", AS_OF], env, BUILD_UNDER_WAY)

    assert ended.returncode == 130, ended.terminal
    assert "interrupted" in ended.terminal
    for noise in ("Traceback", "leaked", "unknown error", "error:"):
        assert noise not in ended.terminal + ended.stdout, ended.terminal

    summary = run_json("run", "--as-of", AS_OF, warehouse=str(warehouse))
    connection = duckdb.connect(str(warehouse), read_only=True)
    try:
        runs = connection.execute(
            "select run_id, entered from cohortflow_state.membership_runs"
        ).fetchall()
    finally:
        connection.close()
    assert [run_id for run_id, _ in runs] == [summary["run_id"]]
    assert runs[0][1] > 0
