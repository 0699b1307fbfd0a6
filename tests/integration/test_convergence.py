"""Under injected faults and SIGKILLs mid-sync, repeated syncs converge on exactly the segments.

The sync runs in a child process against the sandbox in this process (real sockets). Each round
changes the membership, then starts syncs and kills some of them at random moments; finally syncs
run to completion until nothing retryable is left. Then the sandbox must hold exactly the
segments, every change must have produced exactly one event, no consent may exist without
warehouse consent, and the ledger may claim nothing the sandbox does not hold.
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from activations.sandbox import Faults, SandboxServer
from activations.sandbox.klaviyo import KlaviyoSandbox
from activations.warehouse import Warehouse, connect
from tests.support.activation import Person, Store, empty_models, ledger_keys, publish

pytestmark = pytest.mark.integration

REPO_ROOT = Path(__file__).resolve().parents[2]
API_KEY = "pk_conv_9a8b7c6d5e"
SEGMENTS = ("vip", "lapsed")
T0 = datetime(2026, 6, 1, 6, 0, 0)
FAULTS = Faults(rate=0.2, timeout_seconds=0.3, partial_job_rate=0.1)


@pytest.fixture
def sandbox() -> Iterator[tuple[KlaviyoSandbox, str]]:
    app = KlaviyoSandbox(api_key=API_KEY, faults=FAULTS, time_scale=1000.0, seed=7)
    with SandboxServer(app.app) as server:
        yield app, server.url


def child_env(location: str, url: str) -> dict[str, str]:
    return {
        **os.environ,
        "COHORTFLOW_WAREHOUSE": location,
        "KLAVIYO_API_KEY": API_KEY,
        "KLAVIYO_BASE_URL": url,
        "COHORTFLOW_TIME_SCALE": "1000",
        "COHORTFLOW_HTTP_TIMEOUT": "0.2",
    }


def start_sync(location: str, url: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "tests.support.sync_child", ",".join(SEGMENTS)],
        cwd=REPO_ROOT,
        env=child_env(location, url),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def sync_killed_after(location: str, url: str, seconds: float) -> bool:
    """Start a sync and SIGKILL it after `seconds`; True when it was still running."""
    child = start_sync(location, url)
    time.sleep(seconds)
    killed = child.poll() is None
    if killed:
        child.send_signal(signal.SIGKILL)
    child.communicate(timeout=60)
    return killed


def sync_until_settled(location: str, url: str, rounds: int = 8) -> dict[str, object]:
    """Complete syncs until one finds no retryable row left; returns its report."""
    for _ in range(rounds):
        child = start_sync(location, url)
        out, err = child.communicate(timeout=300)
        assert child.returncode == 0, err[-2000:]
        report = json.loads(out)
        retryable = sum(
            s["failed"] - s["permanent_failures"] + s["failed_events"] for s in report["segments"]
        )
        if retryable == 0 and report["consents_granted"] == 0:
            return report
    raise AssertionError(f"no settled sync after {rounds} rounds: {report}")


def change(store: Store, rng: random.Random, day: int) -> None:
    """About a tenth of each segment leaves, newcomers arrive, some traits change."""
    for segment, person_id in list(store.members):
        roll = rng.random()
        if roll < 0.1:
            del store.members[(segment, person_id)]
        elif roll < 0.2:
            store.members[(segment, person_id)] = {"day": day, "score": rng.randint(0, 99)}
    for i in range(rng.randint(10, 30)):
        person = Person(f"d{day}-{i}", f"d{day}.{i}@example.com")
        store.people[person.person_id] = person
        store.members[(rng.choice(SEGMENTS), person.person_id)] = {"day": day}
        store.consent[person.email or ""] = rng.choice(["subscribed", "unsubscribed"])


def expected_events(warehouse: Warehouse) -> list[tuple[str, str, str]]:
    """(segment, person_id, change) of every entry/exit after each segment's baseline."""
    with connect(warehouse) as connection:
        rows = connection.execute(
            sa.text(
                "select c.segment, c.person_id, c.change "
                "from cohortflow_state.membership_change_log c "
                "join cohortflow_state.membership_runs r on r.run_id = c.run_id "
                "join cohortflow_state.sync_baselines b on b.segment = c.segment "
                "join cohortflow_state.membership_runs br on br.run_id = b.baseline_run_id "
                "where c.change in ('entered', 'exited') and r.recorded_at > br.recorded_at"
            )
        )
        return [(str(s), str(p), str(c)) for s, p, c in rows]


def test_syncs_converge_under_faults_and_kills(
    duckdb_url: str, sandbox: tuple[KlaviyoSandbox, str]
) -> None:
    app, url = sandbox
    rng = random.Random(11)
    store = Store()
    for i in range(300):
        person = Person(f"p{i:04d}", f"person{i}@example.com")
        store.people[person.person_id] = person
        store.members[(SEGMENTS[i % 2], person.person_id)] = {"score": i}
        store.consent[person.email or ""] = "subscribed" if i % 4 == 0 else "unsubscribed"

    kills = 0
    with empty_models(duckdb_url) as warehouse:
        for day in range(3):
            if day:
                change(store, rng, day)
            publish(warehouse, store, T0 + timedelta(days=day))
            for _ in range(3):
                kills += sync_killed_after(duckdb_url, url, rng.uniform(0.5, 1.5))
            sync_until_settled(duckdb_url, url)

            for segment in SEGMENTS:
                members = store.email_members(segment)
                assert app.state.list_members(f"List {segment}") == members, f"day {day}"
                held = ledger_keys(warehouse, "klaviyo", segment)
                assert held <= app.state.list_members(f"List {segment}"), "ledger claims too much"
                assert held == members

        by_person = {p.person_id: p.email for p in store.people.values()}
        sent = [(e.metric, e.unique_id, e.properties["segment"]) for e in app.state.events]
        assert len(sent) == len(set(sent)), "an event was delivered twice"
        profiles = app.state.profiles
        delivered = Counter(
            (e.properties["segment"], e.properties["change"], profiles[e.profile_id].email)
            for e in app.state.events
        )
        wanted = Counter(
            (segment, kind, by_person[person_id])
            for segment, person_id, kind in expected_events(warehouse)
        )
        assert delivered == wanted

    subscribed = {email for email, status in store.consent.items() if status == "subscribed"}
    faults = app.state.summary()["requests"]["faults"]
    assert kills >= 3, "syncs must have been killed mid-flight for this test to mean much"
    assert sum(faults.values()) >= 10 and len(faults) >= 4, f"too few faults injected: {faults}"
    granted = {e for e, status in app.state.subscriptions.items() if status == "SUBSCRIBED"}
    assert granted <= subscribed, "consent granted without warehouse consent"
