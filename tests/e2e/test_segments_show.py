"""`cohortflow segments show S`: a segment's definition, size, size over runs, what each destination
acknowledged and a masked sample, as a marketer asks without SQL.

On PostgreSQL here; the README's and the quickstart's commands (run as written by
tests/e2e/test_documented_commands.py) run `segments show` on DuckDB, so each warehouse is covered
once without a third pair of builds."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from activations.warehouse import Warehouse, connect
from tests.e2e.conftest import AS_OF, cohortflow, run_json

pytestmark = [pytest.mark.e2e, pytest.mark.integration]

LATER = "2026-08-15T12:00:00"


def emails_of(location: str) -> set[str]:
    with connect(Warehouse.from_location(location)) as connection:
        rows = connection.exec_driver_sql(
            "select email from analytics.segment_membership where email is not null"
        )
        return {str(email) for (email,) in rows}


def test_show_tracks_a_segment_across_runs_and_masks_its_members(
    raw_store: Path, postgres_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    warehouse_location = postgres_url
    cohortflow("load", "--raw-dir", str(raw_store), warehouse=warehouse_location)
    before = run_json("segments", "show", "lapsed_vip", warehouse=warehouse_location)
    assert before["built"] is False and before["runs"] == []
    assert before["destinations"][0]["options"]["list"] == "Lapsed VIPs"
    assert (
        "not built yet"
        in cohortflow("segments", "show", "lapsed_vip", warehouse=warehouse_location).stdout
    )

    first = run_json("run", "--as-of", AS_OF, warehouse=warehouse_location)
    second = run_json("run", "--as-of", LATER, warehouse=warehouse_location)
    shown = run_json("segments", "show", "seg_lapsed_vip", warehouse=warehouse_location)

    assert shown["size"] == second["segments"]["lapsed_vip"]
    newest, oldest = shown["runs"]
    assert oldest["size"] == first["segments"]["lapsed_vip"] == oldest["entered"]
    assert newest["size"] == oldest["size"] + newest["entered"] - newest["exited"]
    assert newest["size"] == shown["size"]
    assert newest["entered"] + newest["exited"] > 0, "six weeks later nobody moved?"
    assert shown["synced"] == []  # no destination key: nothing acknowledged

    assert len(shown["sample"]) == 5
    assert all(set(row["traits"]) == set(shown["traits"]) for row in shown["sample"])
    monkeypatch.setenv("COLUMNS", "80")
    human = cohortflow("segments", "show", "lapsed_vip", warehouse=warehouse_location).stdout
    assert max(len(line) for line in human.splitlines()) <= 80
    assert f"members now: {shown['size']:,}" in human
    for row in shown["sample"]:
        assert row["person_id"] in human
        if row["email"]:
            assert "***@" in row["email"] and row["email"] in human
    leaked = {
        email for email in emails_of(warehouse_location) if email in human + json.dumps(shown)
    }
    assert not leaked, f"full addresses printed: {sorted(leaked)[:3]}"


def test_an_unknown_segment_names_the_closest(tmp_path: Path) -> None:
    result = cohortflow(
        "segments", "show", "lapsed_vips", warehouse=str(tmp_path / "w.duckdb"), check=False
    )
    assert result.returncode == 1
    assert result.stderr.startswith(
        "error: no segment named 'lapsed_vips'; did you mean `lapsed_vip`?"
    )
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "w.duckdb").exists()
