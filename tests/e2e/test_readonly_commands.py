"""A mistyped or not-yet-built warehouse: one `error:` line naming what to run, nothing created."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from tests.e2e.conftest import cohortflow

pytestmark = [pytest.mark.e2e, pytest.mark.integration]

# Every command that reads a warehouse some earlier command built.
READERS = (
    ("plan",),
    ("approve", "plan-123"),
    ("approve", "chk-123"),
    ("changes",),
    ("checks",),
    ("sync",),
)


def one_error_line(result: subprocess.CompletedProcess[str]) -> str:
    assert "Traceback" not in result.stderr
    (line,) = result.stderr.strip().splitlines()
    assert line.startswith("error: ")
    return line


@pytest.mark.parametrize("command", [*READERS, ("run",)], ids=" ".join)
def test_a_mistyped_duckdb_path_is_one_line_and_creates_nothing(
    command: tuple[str, ...], tmp_path: Path
) -> None:
    typo = tmp_path / "typo.duckdb"
    result = cohortflow(*command, warehouse=str(typo), check=False)
    assert result.returncode == 1
    line = one_error_line(result)
    assert str(typo) in line and "does not exist" in line and "`cohortflow load" in line
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("command", ["run", "load"])
def test_a_path_in_a_missing_folder_is_refused_and_the_folder_not_created(
    command: str, raw_store: Path, tmp_path: Path
) -> None:
    folder = tmp_path / "no" / "such"
    args = ("load", "--raw-dir", str(raw_store)) if command == "load" else ("run",)
    result = cohortflow(*args, warehouse=str(folder / "w.duckdb"), check=False)
    assert result.returncode == 1
    assert f"directory {folder} does not exist" in one_error_line(result)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.postgres
def test_a_loaded_but_never_run_warehouse_says_to_run_first(
    raw_store: Path, warehouse_location: str
) -> None:
    cohortflow("load", "--raw-dir", str(raw_store), warehouse=warehouse_location)
    for command in READERS:
        result = cohortflow(*command, warehouse=warehouse_location, check=False)
        assert result.returncode == 1, command
        line = one_error_line(result)
        assert "no segment models yet (analytics.segment_membership" in line, command
        assert "run `cohortflow run` first" in line, command
