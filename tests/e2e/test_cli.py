"""The CLI end to end on both warehouses: generate -> load -> run, as a user types it."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from tests.e2e.conftest import AS_OF, cohortflow, run_json

pytestmark = [pytest.mark.e2e, pytest.mark.integration]


def test_generate_writes_every_raw_table_deterministically(raw_store: Path, tmp_path: Path) -> None:
    again = tmp_path / "again"
    report = run_json(
        "generate",
        "--persons",
        "1500",
        "--seed",
        "7",
        "--until",
        AS_OF,
        "--out",
        str(again),
        warehouse=str(tmp_path / "unused.duckdb"),
    )
    names = sorted(path.name for path in raw_store.iterdir())
    assert names == sorted(f"{table}.parquet" for table in report["rows"])
    for name in names:
        assert (again / name).read_bytes() == (raw_store / name).read_bytes(), name


def test_load_then_run_builds_a_plausible_store(raw_store: Path, warehouse_location: str) -> None:
    loaded = run_json("load", "--raw-dir", str(raw_store), warehouse=warehouse_location)
    assert all(table["rows"] > 0 for table in loaded["tables"].values())

    summary = run_json("run", "--as-of", AS_OF, warehouse=warehouse_location)

    assert summary["as_of"] == AS_OF
    assert summary["dbt"]["model"] > 30 and summary["dbt"]["unit_test"] >= 2
    stages = summary["lifecycle_stages"]
    assert sum(stages.values()) == summary["persons"]
    for stage in ("visitor", "prospect", "new", "repeat", "vip", "lapsed", "churned"):
        assert stages[stage] > 0, f"no {stage} in a 1,500-person store"
    buyers = stages["new"] + stages["repeat"] + stages["vip"] + stages["lapsed"] + stages["churned"]
    assert sum(summary["rfm_tiers"].values()) == buyers
    assert summary["segments"]["vip"] == stages["vip"]
    assert summary["segments"]["new_customers"] == stages["new"]
    for segment in ("lapsed_vip", "at_risk", "cart_abandoners", "disengaged"):
        assert summary["segments"][segment] > 0, f"segment {segment} is empty"
    assert summary["quarantined"], "the synthetic store is dirty: staging must quarantine rows"


def test_duckdb_and_postgres_give_the_same_summary(
    raw_store: Path, duckdb_url: str, postgres_url: str
) -> None:
    summaries = []
    for location in (duckdb_url, postgres_url):
        cohortflow("load", "--raw-dir", str(raw_store), warehouse=location)
        summary = run_json("run", "--as-of", AS_OF, warehouse=location)
        summary.pop("warehouse")
        assert summary.pop("run_id").startswith("20260630T120000-")
        summaries.append(summary)
    assert summaries[0] == summaries[1]


def test_every_command_has_help() -> None:
    for command in (
        ["--help"],
        ["generate", "--help"],
        ["load", "--help"],
        ["run", "--help"],
        ["segments", "--help"],
        ["segments", "list", "--help"],
        ["segments", "refresh", "--help"],
        ["changes", "--help"],
        ["plan", "--help"],
        ["approve", "--help"],
        ["sync", "--help"],
    ):
        result = cohortflow(*command)
        assert "Usage" in result.stdout, command


def test_run_without_raw_data_says_to_load_first(tmp_path: Path) -> None:
    path = tmp_path / "empty.duckdb"
    duckdb.connect(str(path)).close()
    result = cohortflow("run", warehouse=str(path), check=False)
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1
    assert "cohortflow load --raw-dir" in lines[0]
    assert "customers" in lines[0]


def test_unreachable_postgres_is_one_line(tmp_path: Path) -> None:
    result = cohortflow("run", warehouse="postgresql://u:pw@127.0.0.1:1/x", check=False)
    assert result.returncode == 1
    assert result.stderr.startswith("error: cannot reach the warehouse")
    assert "pw@" not in result.stderr
    assert "Traceback" not in result.stderr


def test_runs_record_who_entered_and_left_and_a_rerun_records_nothing(
    raw_store: Path, duckdb_url: str
) -> None:
    cohortflow("load", "--raw-dir", str(raw_store), warehouse=duckdb_url)
    first = run_json("run", "--as-of", AS_OF, warehouse=duckdb_url)
    assert all(c["exited"] == 0 and c["updated"] == 0 for c in first["changes"].values())
    assert {s: c["entered"] for s, c in first["changes"].items()} == {
        s: n for s, n in first["segments"].items() if n
    }

    # Four days later on the same data: carts age out, windows pass, people move on.
    later = run_json("run", "--as-of", "2026-07-04T12:00:00", warehouse=duckdb_url)
    moved = later["changes"]
    assert sum(c["exited"] for c in moved.values()) > 0
    for segment, members in later["segments"].items():
        before = first["segments"][segment]
        counts = moved.get(segment, {"entered": 0, "exited": 0})
        assert members == before + counts["entered"] - counts["exited"], segment

    listed = run_json(
        "changes", "--run", later["run_id"], "--limit", "100000", warehouse=duckdb_url
    )
    assert listed["run_id"] == later["run_id"]
    assert len(listed["changes"]) == sum(sum(c.values()) for c in moved.values())

    again = run_json("run", "--as-of", "2026-07-04T12:00:00", warehouse=duckdb_url)
    assert again["changes"] == {}


def test_changes_before_any_run_says_so(raw_store: Path, duckdb_url: str) -> None:
    cohortflow("load", "--raw-dir", str(raw_store), warehouse=duckdb_url)
    result = cohortflow("changes", warehouse=duckdb_url, check=False)
    assert result.returncode == 1
    (line,) = result.stderr.strip().splitlines()
    assert line.startswith("error: the warehouse has no segment models yet")
    assert "run `cohortflow run` first" in line
