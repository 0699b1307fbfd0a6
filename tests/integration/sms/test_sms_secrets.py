"""The Twilio auth token never appears in logs, errors, reports, Dagster metadata or files, on a
refused sync or a working one."""

from __future__ import annotations

import json
import logging
import secrets
import traceback
from datetime import datetime
from pathlib import Path

import pytest

from activations.runner import DestinationFailed, run_sync
from activations.settings import Settings
from tests.support.activation import Store, empty_models, publish
from tests.support.sms import recipient, sms_configs, twilio_sandbox, zone_at

pytestmark = pytest.mark.integration


def test_the_auth_token_appears_nowhere(
    duckdb_url: str,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from orchestration.activation import sync_metadata

    token = secrets.token_hex(16)
    caplog.set_level(logging.DEBUG)
    texts: list[str] = []
    store = Store()
    with twilio_sandbox(auth_token=token) as (sandbox, environ), empty_models(duckdb_url) as wh:
        monkeypatch.setenv("COHORTFLOW_TIME_SCALE", environ["COHORTFLOW_TIME_SCALE"])
        settings = Settings(warehouse=wh)
        publish(wh, store, datetime(2026, 6, 1))
        run_sync(settings, destination="sms", configs=sms_configs(["winback"]), environ=environ)
        recipient(store, 1, zone=zone_at(12))
        store.members[("winback", "p1")] = {"first_name": "Ann"}
        publish(wh, store, datetime(2026, 6, 2))
        wrong = {**environ, "TWILIO_AUTH_TOKEN": f"{token}x"}
        with pytest.raises(DestinationFailed) as refused:
            run_sync(settings, destination="sms", configs=sms_configs(["winback"]), environ=wrong)
        assert "401" in str(refused.value)
        texts += [
            str(refused.value),
            repr(refused.value),
            *traceback.format_exception(refused.value),
        ]
        report = run_sync(
            settings, destination="sms", configs=sms_configs(["winback"]), environ=environ
        )
        assert report.segments[0].events == 1 and len(sandbox.state.outbound) == 1
        texts += [json.dumps(report.as_dict()), repr(report), str(sync_metadata(report))]
    texts.append(caplog.text)
    texts += [record.getMessage() for record in caplog.records]
    for text in texts:
        assert token not in text
    for path in tmp_path.rglob("*"):
        if path.is_file():
            assert token.encode() not in path.read_bytes(), f"the token was written to {path.name}"
