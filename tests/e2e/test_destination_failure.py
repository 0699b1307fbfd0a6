"""A destination refusing the API key, from the command line: the run's summary and JSON are
still printed with the destination marked failed, the exit status says the sync failed, and the
right key then sends everything (nothing was marked synced meanwhile)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from activations.sandbox import SandboxServer
from activations.sandbox.klaviyo import KlaviyoSandbox
from tests.e2e.conftest import AS_OF, cohortflow

pytestmark = [pytest.mark.e2e, pytest.mark.integration]

RIGHT_KEY = "pk_e2e_right_5a2f"
SYNC_FAILED = 3


def test_a_refused_api_key_keeps_the_summary_and_exits_with_sync_failed(
    raw_store: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = KlaviyoSandbox(api_key=RIGHT_KEY, time_scale=1000.0, seed=8)
    location = str(tmp_path / "w.duckdb")
    cohortflow("load", "--raw-dir", str(raw_store), warehouse=location)
    with SandboxServer(app.app) as server:
        monkeypatch.setenv("KLAVIYO_BASE_URL", server.url)
        monkeypatch.setenv("COHORTFLOW_TIME_SCALE", "1000")
        monkeypatch.setenv("KLAVIYO_API_KEY", "pk_e2e_revoked")
        as_json = cohortflow("run", "--as-of", AS_OF, "--json", warehouse=location, check=False)
        human = cohortflow("run", "--as-of", AS_OF, warehouse=location, check=False)
        monkeypatch.setenv("KLAVIYO_API_KEY", RIGHT_KEY)
        fixed = cohortflow("sync", "--json", warehouse=location, check=False)

    assert as_json.returncode == SYNC_FAILED, as_json.stderr
    payload = json.loads(as_json.stdout)
    assert payload["run_id"] and sum(c["entered"] for c in payload["changes"].values()) > 0
    assert payload["segments"]["vip"] > 0
    (report,) = payload["syncs"]
    assert report["destination"] == "klaviyo" and report["status"] == "failed"
    assert "rejected with 401 [authentication_failed]; check the API key" in report["error"]
    assert " ;" not in report["error"]
    statuses = [s["status"] for s in report["segments"]]
    assert statuses[0] == "failed" and set(statuses[1:]) == {"not sent"}
    assert all(s["added"] == 0 for s in report["segments"])

    assert human.returncode == SYNC_FAILED, human.stderr
    assert "Segments (run" in human.stdout and "Sync to klaviyo" in human.stdout
    errors = [line for line in human.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and "klaviyo: GET /api/lists was rejected with 401" in errors[0]
    assert " ;" not in human.stderr
    assert "pk_e2e" not in as_json.stdout + as_json.stderr + human.stdout + human.stderr

    # Nothing was marked synced while the key was refused: the right key sends every member.
    assert fixed.returncode == 0, fixed.stderr
    (synced,) = json.loads(fixed.stdout)["syncs"]
    assert synced["status"] == "synced" and synced["error"] is None
    added = {s["segment"]: s["added"] for s in synced["segments"]}
    # (a member without an email is not routable, so not every member is added)
    assert 0 < added["vip"] <= payload["segments"]["vip"]
    assert sum(len(app.state.list_members(name)) for name in set(app.state.lists.values())) == sum(
        added.values()
    )
