"""The way out of a wrong --as-of, as a user types it: a run recorded ten years ahead, `runs list`,
`runs undo`, and the run with the right as_of going through."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.e2e.conftest import AS_OF, cohortflow, run_json

pytestmark = [pytest.mark.e2e, pytest.mark.integration]

TYPO = "2036-06-30T12:00:00"


def test_a_run_recorded_in_the_future_can_be_undone(raw_store: Path, tmp_path: Path) -> None:
    location = str(tmp_path / "w.duckdb")
    cohortflow("load", "--raw-dir", str(raw_store), warehouse=location)
    assert run_json("runs", "list", warehouse=location) == {"runs": [], "total": 0}

    wrong = run_json("run", "--as-of", TYPO, "--allow-future", warehouse=location)
    (listed,) = run_json("runs", "list", warehouse=location)["runs"]
    assert listed["run_id"] == wrong["run_id"] and listed["synced"] is False

    blocked = cohortflow("run", "--as-of", AS_OF, warehouse=location, check=False)
    assert blocked.returncode == 1
    assert f"`cohortflow runs undo {wrong['run_id']}`" in blocked.stderr
    assert "Traceback" not in blocked.stderr

    unconfirmed = cohortflow("runs", "undo", wrong["run_id"], warehouse=location, check=False)
    assert unconfirmed.returncode == 1 and "pass --yes" in unconfirmed.stderr
    assert len(run_json("runs", "list", warehouse=location)["runs"]) == 1

    undone = cohortflow("runs", "undo", wrong["run_id"], "--yes", warehouse=location)
    assert f"undid run {wrong['run_id']}" in undone.stderr
    assert run_json("runs", "list", warehouse=location)["runs"] == []

    right = run_json("run", "--as-of", AS_OF, warehouse=location)
    assert right["as_of"] == AS_OF
    assert right["changes"] == {
        segment: {"entered": size, "exited": 0, "updated": 0}
        for segment, size in right["segments"].items()
        if size
    }
