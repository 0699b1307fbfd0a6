"""What `changes` and `plan` print after a real run: what a cut list leaves out, sample rows with
masked keys, and a plan that stays readable at 80 columns."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.conftest import AS_OF, cohortflow, run_json

Ran = tuple[str, dict[str, Any]]  # the warehouse location and the run's --json output

pytestmark = [pytest.mark.e2e, pytest.mark.integration]


@pytest.fixture(scope="module")
def ran(raw_store: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Ran]:
    """A warehouse after one run (no destination credentials: nothing is synced)."""
    location = str(tmp_path_factory.mktemp("output") / "w.duckdb")
    with pytest.MonkeyPatch.context() as patch:
        patch.delenv("KLAVIYO_API_KEY", raising=False)
        patch.setenv("COHORTFLOW_REPORT_DIR", str(tmp_path_factory.mktemp("reports")))
        cohortflow("load", "--raw-dir", str(raw_store), warehouse=location)
        yield location, run_json("run", "--as-of", AS_OF, warehouse=location)


def test_a_cut_change_list_says_so_and_counts_the_whole_run(ran: Ran) -> None:
    location, run = ran
    entered = sum(c["entered"] for c in run["changes"].values())
    assert entered > 10 and all(c["exited"] == c["updated"] == 0 for c in run["changes"].values())

    cut = run_json("changes", "--limit", "10", warehouse=location)
    assert len(cut["changes"]) == 10
    assert cut["total"] == entered and cut["truncated"] is True
    whole = run_json("changes", "--limit", str(entered), warehouse=location)
    assert len(whole["changes"]) == whole["total"] == entered and whole["truncated"] is False

    human = cohortflow("changes", "--limit", "10", warehouse=location).stdout
    assert f"{entered:,} change(s) ({entered:,} entered, 0 exited, 0 updated)" in human
    assert f"showing 10 of {entered:,} changes" in human
    vip = run["changes"]["vip"]["entered"]
    assert any(line.split() == ["vip", str(vip), "0", "0"] for line in human.splitlines())
    uncut = cohortflow("changes", "--limit", str(entered), warehouse=location).stdout
    assert "showing" not in uncut


def test_the_plan_fits_80_columns_with_full_names_and_masked_samples(
    ran: Ran, monkeypatch: pytest.MonkeyPatch
) -> None:
    location, _ = ran
    monkeypatch.setenv("COLUMNS", "80")  # the CLI's subprocess inherits it
    plan = json.loads(cohortflow("plan", "--json", warehouse=location).stdout)["plans"]
    assert plan
    human = cohortflow("plan", warehouse=location).stdout
    lines = human.splitlines()
    assert all(len(line) <= 80 for line in lines), max(lines, key=len)
    assert "…" not in human
    for p in plan:
        # One row per (destination, segment): lapsed_vip goes to Klaviyo and Omnisend.
        rows = [line for line in lines if line.split()[:2] == [p["segment"], "ready"]]
        assert len(rows) == sum(q["segment"] == p["segment"] for q in plan)
        assert any(f"{p['adds']:,}" in row.split() for row in rows)
        assert p["destination"] in [line.strip() for line in lines]
    samples = [row for p in plan for row in p["samples"]["add"]]
    assert samples
    for sample in samples:
        key = sample["destination_key"]
        local, _, domain = key.partition("@")
        assert key not in human  # never the address itself
        assert f"{local[:2]}***@{domain}" in human and sample["person_id"] in human


def test_changes_of_an_unknown_run_or_segment_is_an_error_not_an_empty_list(ran: Ran) -> None:
    location, run = ran
    typo = run["run_id"][:-1]
    unknown_run = cohortflow("changes", "--run", typo, warehouse=location, check=False)
    assert unknown_run.returncode == 1
    assert unknown_run.stderr.startswith(f"error: no recorded run has id '{typo}'")
    assert f"did you mean {run['run_id']}?" in unknown_run.stderr
    unknown_segment = cohortflow("changes", "--segment", "vips", warehouse=location, check=False)
    assert unknown_segment.returncode == 1
    assert "did you mean `vip`?" in unknown_segment.stderr
    prefixed = run_json("changes", "--segment", "seg_vip", warehouse=location)
    assert prefixed["total"] == run["changes"]["vip"]["entered"]


def test_a_plan_for_a_destination_nobody_routes_to_is_an_error(ran: Ran) -> None:
    location, _ = ran
    result = cohortflow("plan", "--destination", "klavyio", warehouse=location, check=False)
    assert result.returncode == 1
    assert result.stderr.startswith(
        "error: no segment is routed to 'klavyio'; routed destinations: klaviyo"
    )
