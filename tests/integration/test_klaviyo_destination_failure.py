"""A destination that fails as a whole (Klaviyo refusing the API key) over real loopback: the
sync reports it with what it did before, marks nothing synced, and a later sync with the right
key sends everything."""

from __future__ import annotations

from datetime import datetime

import pytest

from activations.runner import DestinationFailed, run_sync
from activations.sandbox import SandboxServer
from activations.sandbox.klaviyo import KlaviyoSandbox
from activations.settings import Settings
from tests.support.activation import (
    Person,
    Store,
    empty_models,
    klaviyo_configs,
    ledger_keys,
    publish,
)

pytestmark = pytest.mark.integration

API_KEY = "pk_test_right_91d0"


def test_a_refused_api_key_fails_the_destination_with_its_report_and_marks_nothing_synced(
    duckdb_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = KlaviyoSandbox(api_key=API_KEY, time_scale=1000.0, seed=4)
    store = Store()
    for i in range(6):
        store.people[f"p{i}"] = Person(f"p{i}", f"p{i}@example.com")
        store.members[("vip", f"p{i}")] = {"n": i}
        store.members[("lapsed", f"p{i}")] = {"n": i}
        store.consent[f"p{i}@example.com"] = "subscribed"
    with SandboxServer(app.app) as server, empty_models(duckdb_url) as warehouse:
        publish(warehouse, store, datetime(2026, 6, 1))
        environ = {"KLAVIYO_BASE_URL": server.url, "COHORTFLOW_TIME_SCALE": "1000"}
        monkeypatch.setenv("COHORTFLOW_TIME_SCALE", "1000")
        settings = Settings(warehouse=warehouse)
        configs = klaviyo_configs("vip", "lapsed")
        with pytest.raises(DestinationFailed) as failed:
            run_sync(
                settings,
                destination="klaviyo",
                configs=configs,
                environ={**environ, "KLAVIYO_API_KEY": "pk_test_revoked"},
            )
        held = {key for s in configs for key in ledger_keys(warehouse, "klaviyo", s)}
        assert not app.state.profiles
        fixed = run_sync(
            settings,
            destination="klaviyo",
            configs=configs,
            environ={**environ, "KLAVIYO_API_KEY": API_KEY},
        )

    report = failed.value.report
    assert report.status == "failed" and report.error is not None
    assert "rejected with 401" in report.error and "check the API key" in report.error
    assert " ;" not in report.error
    assert str(failed.value) == report.error
    # The first segment met the refusal, the second was not attempted; no consent was sent.
    assert [s.status for s in report.segments] == ["failed", "not sent"]
    assert report.consents_granted == 0 and report.api_calls >= 1
    assert report.as_dict()["error"] == report.error
    assert held == set(), "nothing is marked synced that Klaviyo did not acknowledge"
    assert fixed.status == "synced" and fixed.error is None
    assert sorted(s.added for s in fixed.segments) == [6, 6]
    assert app.state.list_members("List vip") == store.email_members("vip")
