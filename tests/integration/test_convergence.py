"""Under injected faults and SIGKILLs mid-sync, repeated syncs converge on exactly the segments,
for every destination.

The sync runs in a child process against the vendor's sandbox in this process (real sockets).
Each day changes the membership, then starts syncs and kills some of them at random moments;
finally syncs run to completion until nothing retryable is left. Then the list or tag must hold
exactly the segment, every change must have produced exactly one event, no consent may exist
without warehouse consent, and the ledger may claim nothing the sandbox does not hold.
"""

from __future__ import annotations

import json
import random
import signal
import time
from collections import Counter
from collections.abc import Iterator
from datetime import datetime, timedelta

import pytest
import sqlalchemy as sa

from activations.sandbox import Faults
from activations.warehouse import Warehouse, connect
from tests.support import sync_child
from tests.support.activation import Person, Store, empty_models, ledger_keys, publish
from tests.support.vendors import VENDORS, Vendor

pytestmark = pytest.mark.integration

SEGMENTS = ("vip", "lapsed")
T0 = datetime(2026, 6, 1, 6, 0, 0)
FAULTS = Faults(rate=0.2, timeout_seconds=0.3, partial_job_rate=0.1)


@pytest.fixture(params=VENDORS, ids=[v.name for v in VENDORS])
def vendor(request: pytest.FixtureRequest) -> Vendor:
    return request.param  # type: ignore[no-any-return]


@pytest.fixture
def sandbox(vendor: Vendor) -> Iterator[tuple[object, str]]:
    with vendor.sandbox(FAULTS, seed=7) as served:
        yield served


class Syncs:
    """Starts one sync at a time of `SEGMENTS` to the vendor, in a child process."""

    def __init__(self, vendor: Vendor, location: str, url: str) -> None:
        self.vendor = vendor
        self.environ = {
            **vendor.environ(url, COHORTFLOW_HTTP_TIMEOUT="0.2"),
            "COHORTFLOW_WAREHOUSE": location,
        }

    def killed_after(self, seconds: float) -> bool:
        """Start a sync and SIGKILL it after `seconds`; True when it was still running."""
        child = sync_child.start(self.vendor, SEGMENTS, self.environ)
        time.sleep(seconds)
        killed = child.poll() is None
        if killed:
            child.send_signal(signal.SIGKILL)
        child.communicate(timeout=60)
        return killed

    def until_settled(self, rounds: int = 8) -> dict[str, object]:
        """Complete syncs until one finds no retryable row left; returns its report."""
        for _ in range(rounds):
            child = sync_child.start(self.vendor, SEGMENTS, self.environ)
            out, err = child.communicate(timeout=300)
            assert child.returncode == 0, err[-2000:]
            report = json.loads(out)
            retryable = sum(
                s["failed"] - s["permanent_failures"] + s["failed_events"]
                for s in report["segments"]
            )
            if retryable == 0 and report["consents_granted"] == 0:
                return report  # type: ignore[no-any-return]
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
    duckdb_url: str, vendor: Vendor, sandbox: tuple[object, str]
) -> None:
    app, url = sandbox
    syncs = Syncs(vendor, duckdb_url, url)
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
                kills += syncs.killed_after(rng.uniform(0.5, 1.5))
            syncs.until_settled()

            for segment in SEGMENTS:
                members = store.email_members(segment)
                held_there = vendor.holders(app, segment)
                assert held_there == members, f"day {day}"
                held = ledger_keys(warehouse, vendor.name, segment)
                assert held <= held_there, "ledger claims too much"
                assert held == members

        delivered = vendor.events(app)
        ids = [(e.change, e.event_id, e.segment) for e in delivered]
        assert len(ids) == len(set(ids)), "an event was delivered twice"
        by_person = {p.person_id: p.email for p in store.people.values()}
        wanted = Counter(
            (segment, kind, by_person[person_id])
            for segment, person_id, kind in expected_events(warehouse)
        )
        assert Counter((e.segment, e.change, e.key) for e in delivered) == wanted

    subscribed = {email for email, status in store.consent.items() if status == "subscribed"}
    faults = vendor.faults_injected(app)
    assert kills >= 3, "syncs must have been killed mid-flight for this test to mean much"
    assert sum(faults.values()) >= 10 and len(faults) >= 4, f"too few faults injected: {faults}"
    granted = vendor.subscribed(app)
    assert granted <= subscribed, "consent granted without warehouse consent"
    assert granted == subscribed, "the warehouse's consent did not all arrive"
