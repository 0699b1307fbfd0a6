"""A text is never sent twice, whatever kills the sync: the failpoints either side of the send,
and random SIGKILLs under 20% injected faults over several days of segment churn.

The sync runs in a child process (`tests.support.sms_child`); the Twilio sandbox in this process
keeps every message it accepted, the judge of duplicates.
"""

from __future__ import annotations

import json
import random
import signal
import time
from collections import Counter
from datetime import datetime, timedelta

import pytest

from activations.failpoints import ENV_VAR
from activations.sandbox import Faults
from tests.support import sms_child
from tests.support.activation import Store, empty_models, publish
from tests.support.sms import outbox_rows, recipient, texted, twilio_sandbox, zone_at

pytestmark = pytest.mark.integration

T0 = datetime(2026, 6, 1, 9)
SEGMENTS = ("winback", "vip")
FAULTS = Faults(rate=0.2, timeout_seconds=0.3)
SETTLED = {"sent", "delivered", "undelivered", "failed", "suppressed", "expired", "unknown"}


def run(environ: dict[str, str], *, failpoint: str | None = None) -> int:
    env = {**environ, ENV_VAR: failpoint} if failpoint else environ
    child = sms_child.start(SEGMENTS, env)
    child.communicate(timeout=120)
    return child.returncode


@pytest.mark.parametrize(
    ("failpoint", "accepted", "settled"),
    [("sms_after_send", 1, "delivered"), ("sms_after_sending", 0, "unknown")],
)
def test_a_sync_killed_either_side_of_a_send_never_texts_twice(
    duckdb_url: str, failpoint: str, accepted: int, settled: str
) -> None:
    store = Store()
    with twilio_sandbox() as (sandbox, environ), empty_models(duckdb_url) as warehouse:
        environ = {**environ, "COHORTFLOW_WAREHOUSE": duckdb_url}
        publish(warehouse, store, T0)
        assert run(environ) == 0  # the baseline
        phone = recipient(store, 1, zone=zone_at(12))
        store.members[("winback", "p1")] = {"first_name": "Ann"}
        publish(warehouse, store, T0 + timedelta(days=1))
        assert run(environ, failpoint=failpoint) < 0, "the child must die at the failpoint"
        assert outbox_rows(warehouse) == [("p1", "sending", None)]
        for _ in range(2):
            assert run(environ) == 0
        rows = outbox_rows(warehouse)
    assert texted(sandbox)[phone] == accepted
    assert [status for _, status, _ in rows] == [settled]


def change(store: Store, rng: random.Random, day: int, midday: str) -> None:
    """Some members leave, newcomers arrive, a few re-enter the other segment."""
    for key in list(store.members):
        if rng.random() < 0.15:
            del store.members[key]
    for i in range(rng.randint(20, 40)):
        number = 100 * day + i
        consent = rng.choice(["subscribed", "subscribed", "unsubscribed", None])
        recipient(store, number, zone=midday, consent=consent)
        store.members[(rng.choice(SEGMENTS), f"p{number}")] = {"first_name": f"N{number}"}


def test_random_kills_under_faults_never_text_twice_or_without_consent(duckdb_url: str) -> None:
    rng = random.Random(23)
    store = Store()
    midday = zone_at(12)
    kills = 0
    with twilio_sandbox(FAULTS) as (sandbox, environ), empty_models(duckdb_url) as warehouse:
        environ = {**environ, "COHORTFLOW_WAREHOUSE": duckdb_url}
        publish(warehouse, store, T0)
        assert run(environ) == 0
        for day in range(1, 4):
            change(store, rng, day, midday)
            publish(warehouse, store, T0 + timedelta(days=day))
            for _ in range(2):
                child = sms_child.start(SEGMENTS, environ)
                time.sleep(rng.uniform(1.0, 3.0))  # a child takes about a second to start
                if child.poll() is None:
                    child.send_signal(signal.SIGKILL)
                    kills += 1
                child.communicate(timeout=60)
            assert run(environ) == 0, "a sync under faults completes"
            sandbox.set_faults(Faults())
            for _ in range(2):  # settle what the kills left in doubt
                child = sms_child.start(SEGMENTS, environ)
                out, err = child.communicate(timeout=120)
                assert child.returncode == 0, err[-2000:]
                json.loads(out)
            sandbox.set_faults(FAULTS)
        rows = outbox_rows(warehouse)
    faults = sandbox.state.faults
    consented = {phone for phone, status in store.sms_consent.items() if status == "subscribed"}
    sent = texted(sandbox)
    assert kills >= 3, "syncs must have been killed mid-flight for this test to mean much"
    assert sum(faults.values()) >= 10 and len(faults) >= 4, f"too few faults injected: {faults}"
    assert sent, "some texts must have gone for this test to mean much"
    assert max(sent.values()) == 1, "a phone was texted twice (the cap allows 1 a day)"
    assert set(sent) <= consented, "a text went without SMS consent"
    assert Counter(status for _, status, _ in rows)["sending"] == 0
    assert {status for _, status, _ in rows} <= SETTLED, "every text ends in a final state"
    assert all(code is not None for _, status, code in rows if status in ("suppressed", "expired"))
