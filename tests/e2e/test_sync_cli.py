"""Syncing from the command line: skipped without credentials, into the sandbox with --sandbox."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.e2e.conftest import AS_OF, cohortflow, run_json

pytestmark = [pytest.mark.e2e, pytest.mark.integration]


def test_run_skips_klaviyo_without_a_key_then_syncs_into_the_sandbox(
    raw_store: Path, tmp_path: Path
) -> None:
    location = str(tmp_path / "w.duckdb")
    cohortflow("load", "--raw-dir", str(raw_store), warehouse=location)

    first = run_json("run", "--as-of", AS_OF, warehouse=location)
    assert first["syncs"] == []
    assert first["syncs_skipped"] == {
        "klaviyo": "KLAVIYO_API_KEY not set",
        "omnisend": "OMNISEND_API_KEY not set",
    }

    refused = cohortflow("sync", "--destination", "klaviyo", warehouse=location, check=False)
    assert refused.returncode == 1
    assert refused.stderr.count("\n") == 1 and "KLAVIYO_API_KEY is not set" in refused.stderr

    result = cohortflow("run", "--as-of", AS_OF, "--sandbox", "--json", warehouse=location)
    reports = {report["destination"]: report for report in json.loads(result.stdout)["syncs"]}
    routed = {
        "klaviyo": {"vip", "lapsed_vip", "cart_abandoners"},
        "omnisend": {"lapsed_vip", "at_risk"},
    }
    assert set(reports) == set(routed)
    for destination, report in reports.items():
        assert {segment["segment"] for segment in report["segments"]} == routed[destination]
        assert sum(segment["failed"] for segment in report["segments"]) == 0
        assert report["api_calls"] > 0 and report["status"] == "synced"
    added = {s["segment"]: s["added"] for s in reports["klaviyo"]["segments"]}
    assert added["vip"] > 0
    # One segment at both vendors: the same members, each destination with its own ledger.
    lapsed = {
        name: next(s["added"] for s in r["segments"] if s["segment"] == "lapsed_vip")
        for name, r in reports.items()
    }
    assert lapsed["klaviyo"] == lapsed["omnisend"]
    assert "sandbox-" not in result.stdout + result.stderr, "the sandbox key is never printed"
    checked = json.loads(result.stdout)["checks"]
    assert checked["holding"] == 0 and checked["counts"]["passed"] > 20

    alone = run_json("checks", warehouse=location)
    assert alone["run_id"] == checked["run_id"] and alone["holding"] == 0
    kinds = {r["check"] for r in alone["results"]}
    assert {"raw_completeness", "payload_null_keys", "segment_volume", "dbt_tests"} <= kinds
