"""Under injected faults and SIGKILLs mid-sync, repeated syncs converge on exactly the segments,
for every destination.

The sync runs in a child process against the vendor's sandbox in this process (real sockets).
The same holds when a second destination in the same run refuses every call: that one is
reported failed, and the first still converges.
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
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

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


class Syncs:
    """Starts one sync at a time of `SEGMENTS` to the vendors, in a child process.

    `failing` names vendors whose sandbox refuses every call: their reports are not waited on."""

    def __init__(
        self, served: Mapping[Vendor, str], location: str, failing: tuple[Vendor, ...] = ()
    ) -> None:
        self.vendors = tuple(served)
        self.failing = failing
        self.environ = {"COHORTFLOW_WAREHOUSE": location}
        for vendor, url in served.items():
            self.environ |= vendor.environ(url, COHORTFLOW_HTTP_TIMEOUT="0.2")
        self.reports: list[dict[str, Any]] = []

    def killed_after(self, seconds: float) -> bool:
        """Start a sync and SIGKILL it after `seconds`; True when it was still running."""
        child = sync_child.start(self.vendors, SEGMENTS, self.environ)
        time.sleep(seconds)
        killed = child.poll() is None
        if killed:
            child.send_signal(signal.SIGKILL)
        child.communicate(timeout=60)
        return killed

    def until_settled(self, rounds: int = 8) -> None:
        """Complete syncs until one finds no retryable row left at the healthy vendors."""
        for _ in range(rounds):
            child = sync_child.start(self.vendors, SEGMENTS, self.environ)
            out, err = child.communicate(timeout=300)
            assert child.returncode == 0, err[-2000:]
            reports = json.loads(out)
            self.reports.append(reports)
            healthy = [reports[v.name] for v in self.vendors if v not in self.failing]
            retryable = sum(
                s["failed"] - s["permanent_failures"] + s["failed_events"]
                for report in healthy
                for s in report["segments"]
            )
            consents = sum(r["consents_granted"] + r["consents_failed"] for r in healthy)
            if retryable == 0 and consents == 0:
                return
        raise AssertionError(f"no settled sync after {rounds} rounds: {reports}")


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


def expected_events(warehouse: Warehouse, destination: str) -> list[tuple[str, str, str]]:
    """(segment, person_id, change) of every entry/exit after each segment's baseline at
    `destination`."""
    with connect(warehouse) as connection:
        rows = connection.execute(
            sa.text(
                "select c.segment, c.person_id, c.change "
                "from cohortflow_state.membership_change_log c "
                "join cohortflow_state.membership_runs r on r.run_id = c.run_id "
                "join cohortflow_state.sync_baselines b "
                "on b.segment = c.segment and b.destination = :destination "
                "join cohortflow_state.membership_runs br on br.run_id = b.baseline_run_id "
                "where c.change in ('entered', 'exited') and r.recorded_at > br.recorded_at"
            ),
            {"destination": destination},
        )
        return [(str(s), str(p), str(c)) for s, p, c in rows]


def converge(vendor: Vendor, app: Any, syncs: Syncs, warehouse: Warehouse) -> None:
    """Three days of changes, each with syncs killed mid-flight and then run to completion; then
    `vendor` must hold exactly the segments, one event per change and only granted consent."""
    rng = random.Random(11)
    store = Store()
    for i in range(300):
        person = Person(f"p{i:04d}", f"person{i}@example.com")
        store.people[person.person_id] = person
        store.members[(SEGMENTS[i % 2], person.person_id)] = {"score": i}
        store.consent[person.email or ""] = "subscribed" if i % 4 == 0 else "unsubscribed"

    kills = 0
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
        for segment, person_id, kind in expected_events(warehouse, vendor.name)
    )
    assert Counter((e.segment, e.change, e.key) for e in delivered) == wanted

    subscribed = {email for email, status in store.consent.items() if status == "subscribed"}
    faults = vendor.faults_injected(app)
    assert kills >= 3, "syncs must have been killed mid-flight for this test to mean much"
    assert sum(faults.values()) >= 10 and len(faults) >= 4, f"too few faults injected: {faults}"
    granted = vendor.subscribed(app)
    assert granted <= subscribed, "consent granted without warehouse consent"
    assert granted == subscribed, "the warehouse's consent did not all arrive"


def test_syncs_converge_under_faults_and_kills(duckdb_url: str, vendor: Vendor) -> None:
    with vendor.sandbox(FAULTS, seed=7) as (app, url), empty_models(duckdb_url) as warehouse:
        converge(vendor, app, Syncs({vendor: url}, duckdb_url), warehouse)


def test_a_destination_failing_every_call_leaves_the_other_converging(
    duckdb_url: str, vendor: Vendor
) -> None:
    (other,) = [v for v in VENDORS if v is not vendor]
    with (
        vendor.sandbox(FAULTS, seed=7) as (app, url),
        other.sandbox(Faults(rate=1.0, kinds=("503",))) as (refusing, refusing_url),
        empty_models(duckdb_url) as warehouse,
    ):
        syncs = Syncs({vendor: url, other: refusing_url}, duckdb_url, failing=(other,))
        converge(vendor, app, syncs, warehouse)
        for segment in SEGMENTS:
            assert ledger_keys(warehouse, other.name, segment) == set()
            assert other.holders(refusing, segment) == set()
    for reports in syncs.reports:
        failed = reports[other.name]
        assert failed["status"] == "failed", "the failing destination must be reported"
        assert all(
            s["status"] == "failed" and (s["reasons"] or s["message"]) for s in failed["segments"]
        )
