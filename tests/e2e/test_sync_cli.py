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
    assert first["syncs_skipped"] == {"klaviyo": "KLAVIYO_API_KEY not set"}

    refused = cohortflow("sync", "--destination", "klaviyo", warehouse=location, check=False)
    assert refused.returncode == 1
    assert refused.stderr.count("\n") == 1 and "KLAVIYO_API_KEY is not set" in refused.stderr

    result = cohortflow("run", "--as-of", AS_OF, "--sandbox", "--json", warehouse=location)
    (report,) = json.loads(result.stdout)["syncs"]
    assert report["destination"] == "klaviyo"
    routed = {"vip", "lapsed_vip", "cart_abandoners"}
    assert {segment["segment"] for segment in report["segments"]} == routed
    added = {segment["segment"]: segment["added"] for segment in report["segments"]}
    assert added["vip"] > 0
    assert sum(segment["failed"] for segment in report["segments"]) == 0
    assert report["api_calls"] > 0
    assert "sandbox-" not in result.stdout + result.stderr, "the sandbox key is never printed"
    checked = json.loads(result.stdout)["checks"]
    assert checked["holding"] == 0 and checked["counts"]["passed"] > 20

    alone = run_json("checks", warehouse=location)
    assert alone["run_id"] == checked["run_id"] and alone["holding"] == 0
    kinds = {r["check"] for r in alone["results"]}
    assert {"raw_completeness", "payload_null_keys", "segment_volume", "dbt_tests"} <= kinds
