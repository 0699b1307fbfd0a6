"""The Klaviyo API key never appears in logs, exceptions, reports, Dagster metadata or files."""

from __future__ import annotations

import json
import logging
import os
import secrets
import subprocess
import traceback
from datetime import datetime
from pathlib import Path

import pytest

from activations.errors import CohortflowError
from activations.runner import run_sync
from activations.sandbox import Faults, SandboxServer
from activations.sandbox.klaviyo import KlaviyoSandbox
from activations.settings import Settings
from tests.support.activation import Person, Store, empty_models, klaviyo_configs, publish
from tests.support.sync_child import REPO_ROOT, command
from tests.support.vendors import KLAVIYO

pytestmark = pytest.mark.integration


def test_the_api_key_appears_nowhere(
    duckdb_url: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    from orchestration.activation import sync_metadata

    key = f"pk_{secrets.token_hex(16)}"
    sandbox = KlaviyoSandbox(
        api_key=key, faults=Faults(rate=0.3, timeout_seconds=0.3), time_scale=1000.0, seed=5
    )
    store = Store()
    for i in range(60):
        store.people[f"p{i}"] = Person(f"p{i}", f"p{i}@example.com")
        store.members[("vip", f"p{i}")] = {"n": i}
        store.consent[f"p{i}@example.com"] = "subscribed"
    store.people["bad"] = Person("bad", "bad@@example")
    store.members[("vip", "bad")] = {"n": -1}
    caplog.set_level(logging.DEBUG)
    texts: list[str] = []
    with SandboxServer(sandbox.app) as server, empty_models(duckdb_url) as warehouse:
        publish(warehouse, store, datetime(2026, 6, 1))
        environ = {
            "KLAVIYO_API_KEY": key,
            "KLAVIYO_BASE_URL": server.url,
            "COHORTFLOW_TIME_SCALE": "1000",
            "COHORTFLOW_HTTP_TIMEOUT": "0.2",
        }
        settings = Settings(warehouse=warehouse)
        wrong = {**environ, "KLAVIYO_API_KEY": f"{key}-revoked"}
        with pytest.raises(CohortflowError) as refused:
            run_sync(settings, destination="klaviyo", configs=klaviyo_configs("vip"), environ=wrong)
        assert "401" in str(refused.value)
        texts += [str(refused.value), repr(refused.value)]
        texts += traceback.format_exception(refused.value)

        child = subprocess.run(
            command(KLAVIYO, "vip"),
            cwd=REPO_ROOT,
            env={**os.environ, **wrong, "COHORTFLOW_WAREHOUSE": duckdb_url},
            capture_output=True,
            text=True,
            check=False,
        )
        assert child.returncode != 0
        texts += [child.stdout, child.stderr]
        report = run_sync(
            settings, destination="klaviyo", configs=klaviyo_configs("vip"), environ=environ
        )
        assert report.api_calls > 0 and report.permanent_failures == 1
        texts += [json.dumps(report.as_dict()), repr(report), str(sync_metadata(report))]

    texts.append(caplog.text)
    texts += [record.getMessage() for record in caplog.records]
    for text in texts:
        assert key not in text
    for path in tmp_path.rglob("*"):
        if path.is_file():
            assert key.encode() not in path.read_bytes(), f"the key was written to {path.name}"
