"""A sync killed after Klaviyo accepted a batch but before the ledger recorded it still converges.

The child process dies at the `sync_before_ack` failpoint: the sandbox holds the change, the
ledger does not. Whatever the membership does next, the following sync must leave the list, and
the consent, exactly as the warehouse says.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from activations.failpoints import ENV_VAR
from activations.sandbox import SandboxServer
from activations.sandbox.klaviyo import KlaviyoSandbox
from tests.support.activation import Person, Store, empty_models, ledger_keys, publish

pytestmark = pytest.mark.integration

REPO_ROOT = Path(__file__).resolve().parents[2]
API_KEY = "pk_lost_acks_1"
T0 = datetime(2026, 6, 1, 8)


@pytest.fixture
def sandbox() -> Iterator[tuple[KlaviyoSandbox, str]]:
    app = KlaviyoSandbox(api_key=API_KEY, time_scale=1000.0, seed=3)
    with SandboxServer(app.app) as server:
        yield app, server.url


def sync(location: str, url: str, *, crash: bool) -> int:
    env = {
        **os.environ,
        "COHORTFLOW_WAREHOUSE": location,
        "KLAVIYO_API_KEY": API_KEY,
        "KLAVIYO_BASE_URL": url,
        "COHORTFLOW_TIME_SCALE": "1000",
    }
    if crash:
        env[ENV_VAR] = "sync_before_ack"
    child = subprocess.run(
        [sys.executable, "-m", "tests.support.sync_child", "vip"],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    return child.returncode


def test_unrecorded_adds_removes_and_consent_still_converge(
    duckdb_url: str, sandbox: tuple[KlaviyoSandbox, str]
) -> None:
    app, url = sandbox
    store = Store()
    for i in range(20):
        store.people[f"p{i}"] = Person(f"p{i}", f"p{i}@example.com")
        store.members[("vip", f"p{i}")] = {"n": i}
    with empty_models(duckdb_url) as warehouse:
        publish(warehouse, store, T0)
        assert sync(duckdb_url, url, crash=True) < 0, "the child must die at the failpoint"
        assert app.state.list_members("List vip") == store.email_members("vip")
        assert ledger_keys(warehouse, "klaviyo", "vip") == set()

        # An add Klaviyo holds but the ledger never recorded: the person leaves.
        del store.members[("vip", "p0")]
        publish(warehouse, store, T0 + timedelta(days=1))
        assert sync(duckdb_url, url, crash=False) == 0
        assert app.state.list_members("List vip") == store.email_members("vip")

        # A removal Klaviyo carried out but the ledger never recorded: the person comes back.
        del store.members[("vip", "p1")]
        publish(warehouse, store, T0 + timedelta(days=2))
        assert sync(duckdb_url, url, crash=True) < 0
        assert "p1@example.com" not in app.state.list_members("List vip")
        store.members[("vip", "p1")] = {"n": 1}
        publish(warehouse, store, T0 + timedelta(days=3))
        assert sync(duckdb_url, url, crash=False) == 0
        assert app.state.list_members("List vip") == store.email_members("vip")
        assert ledger_keys(warehouse, "klaviyo", "vip") == store.email_members("vip")

        # Consent granted but never recorded, then withdrawn in the warehouse.
        store.consent["p5@example.com"] = "subscribed"
        publish(warehouse, store, T0 + timedelta(days=4))
        assert sync(duckdb_url, url, crash=True) < 0
        assert app.state.subscriptions.get("p5@example.com") == "SUBSCRIBED"
        store.consent["p5@example.com"] = "unsubscribed"
        publish(warehouse, store, T0 + timedelta(days=5))
        assert sync(duckdb_url, url, crash=False) == 0
        assert app.state.subscriptions.get("p5@example.com") == "UNSUBSCRIBED"
