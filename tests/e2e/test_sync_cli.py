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
        "sms": "TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN not set",
        "webhook": "PARTNER_URL, PARTNER_SECRET not set",
    }

    refused = cohortflow("sync", "--destination", "klaviyo", warehouse=location, check=False)
    assert refused.returncode == 1
    assert refused.stderr.count("\n") == 1 and "KLAVIYO_API_KEY is not set" in refused.stderr

    result = cohortflow("run", "--as-of", AS_OF, "--sandbox", "--json", warehouse=location)
    reports = {report["destination"]: report for report in json.loads(result.stdout)["syncs"]}
    routed = {
        "klaviyo": {"vip", "lapsed_vip", "cart_abandoners"},
        "omnisend": {"lapsed_vip", "at_risk"},
        "sms": {"cart_abandoners"},
        "webhook": {"replenishment_due"},
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
        if name in ("klaviyo", "omnisend")
    }
    assert lapsed["klaviyo"] == lapsed["omnisend"]
    printed = result.stdout + result.stderr
    assert "sandbox-" not in printed and "whsec-" not in printed, "no sandbox secret is printed"
    checked = json.loads(result.stdout)["checks"]
    assert checked["holding"] == 0 and checked["counts"]["passed"] > 20

    alone = run_json("checks", warehouse=location)
    assert alone["run_id"] == checked["run_id"] and alone["holding"] == 0
    kinds = {r["check"] for r in alone["results"]}
    assert {"raw_completeness", "payload_null_keys", "segment_volume", "dbt_tests"} <= kinds


def test_a_sandbox_run_after_a_baseline_texts_entrants_and_posts_the_week_to_the_webhook(
    raw_store: Path, tmp_path: Path
) -> None:
    """`make demo`'s shape: a baseline a week back, then a run that shows the week's changes."""
    location = str(tmp_path / "w.duckdb")
    cohortflow("load", "--raw-dir", str(raw_store), warehouse=location)
    baseline = run_json("run", "--as-of", "2026-06-23T12:00:00", "--sandbox", warehouse=location)
    sms = next(r for r in baseline["syncs"] if r["destination"] == "sms")
    assert sms["outbox"] == {}, "the first SMS sync is the baseline: nobody is texted"

    shown = cohortflow("run", "--as-of", AS_OF, "--sandbox", warehouse=location)
    outbox = run_json("sms", "outbox", "--limit", "1000", warehouse=location)
    changes = run_json(
        "changes", "--segment", "cart_abandoners", "--limit", "1000", warehouse=location
    )
    entered = {c["person_id"] for c in changes["changes"] if c["change"] == "entered"}
    messages = outbox["messages"]
    assert entered and {m["person_id"] for m in messages} == entered, "one text per entrant"
    assert len(messages) == len(entered) == sum(outbox["counts"].values())
    unsent = [m for m in messages if m["status"] not in ("sending", "sent", "delivered")]
    assert all(m["reason"] for m in unsent), "every text not sent says why"
    texted = len(messages) - len(unsent)
    assert f"Twilio sandbox holds {texted:,} texts" in shown.stdout
    skipped = sum(1 for m in unsent if m["status"] in ("suppressed", "expired"))
    reported = sum(
        int(line.split(": ")[2].split(" event")[0])
        for line in shown.stderr.splitlines()
        if line.startswith("skipped: sms/cart_abandoners")
    )
    assert reported == skipped, "the run reports every text it settled without sending"
    assert "Webhook sandbox accepted" in shown.stdout and ", 0 refused." in shown.stdout
