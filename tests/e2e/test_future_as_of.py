"""`cohortflow run --as-of <future>` is refused before anything is built or recorded."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.e2e.conftest import cohortflow

pytestmark = [pytest.mark.e2e]


def test_run_refuses_a_future_as_of_in_one_line_and_touches_nothing(tmp_path: Path) -> None:
    warehouse = tmp_path / "w.duckdb"
    result = cohortflow(
        "run", "--as-of", "2030-01-01T00:00:00", warehouse=str(warehouse), check=False
    )
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(
        "error: as_of 2030-01-01 00:00:00 is in the future"
    )
    assert "--allow-future" in lines[0]
    assert not warehouse.exists()


def test_allow_future_is_an_option_of_run() -> None:
    assert "--allow-future" in cohortflow("run", "--help").stdout
