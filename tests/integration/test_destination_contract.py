"""The destination contract: every vendor, through the same scenarios, against its own sandbox.

A destination that does not pass this file is not a destination. Each scenario drives
`run_sync` the way `cohortflow sync` does, then reads back what the vendor holds through
`tests/support/vendors.py`: first sync is a baseline with no enter events; adds, removes and
trait updates converge with exactly one event per change; bad rows are quarantined with a reason
that never quotes the address; lost answers and injected faults converge; the API key appears
nowhere.
"""

from __future__ import annotations

import json
import logging
import random
from datetime import datetime, timedelta

import pytest

from activations.runner import DestinationFailed, SyncReport, run_sync
from activations.sandbox import Faults
from activations.settings import Settings
from activations.warehouse import Warehouse
from tests.support.activation import Person, Store, empty_models, ledger_keys, publish, row_errors
from tests.support.vendors import TIME_SCALE, VENDORS, Vendor

pytestmark = pytest.mark.integration

T0 = datetime(2026, 6, 1, 12, 0, 0)


@pytest.fixture(params=VENDORS, ids=lambda vendor: vendor.name)
def vendor(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Vendor:
    # The client's pacing and polling read the time scale from the process environment.
    monkeypatch.setenv("COHORTFLOW_TIME_SCALE", str(TIME_SCALE))
    return request.param  # type: ignore[no-any-return]


def sync(vendor: Vendor, warehouse: Warehouse, url: str, *segments: str, **env: str) -> SyncReport:
    return run_sync(
        Settings(warehouse=warehouse),
        destination=vendor.name,
        configs=vendor.configs(*segments),
        environ=vendor.environ(url, **env),
    )


def store_of(size: int, segment: str = "vip") -> Store:
    store = Store()
    for i in range(size):
        person = Person(f"p{i:04d}", f"person{i}@example.com")
        store.people[person.person_id] = person
        store.members[(segment, person.person_id)] = {"first_name": f"P{i}", "orders": i % 7}
        store.consent[str(person.email)] = "subscribed" if i % 3 == 0 else "unsubscribed"
    return store


def test_first_sync_is_a_baseline_without_enter_events(duckdb_url: str, vendor: Vendor) -> None:
    store = store_of(230)
    with vendor.sandbox() as (app, url), empty_models(duckdb_url) as warehouse:
        publish(warehouse, store, T0)
        report = sync(vendor, warehouse, url, "vip")
        assert vendor.holders(app, "vip") == store.email_members("vip")
        assert ledger_keys(warehouse, vendor.name, "vip") == store.email_members("vip")
        assert vendor.events(app) == [], "members already in the segment get no enter event"
    assert report.status == "synced" and [s.added for s in report.segments] == [230]


def test_every_segments_leavers_go_before_any_segments_newcomers(
    duckdb_url: str, vendor: Vendor
) -> None:
    # Segment "lapsed" sorts first and gains a member; "vip" loses one. The vip leaver's exit
    # event and removal still go before the lapsed newcomer is added and welcomed.
    store = store_of(20)
    store.members[("lapsed", "p0019")] = store.members.pop(("vip", "p0019"))
    with vendor.sandbox() as (app, url), empty_models(duckdb_url) as warehouse:
        publish(warehouse, store, T0)
        sync(vendor, warehouse, url, "lapsed", "vip")
        store.members[("lapsed", "p0005")] = store.members.pop(("vip", "p0005"))
        publish(warehouse, store, T0 + timedelta(days=1))
        report = sync(vendor, warehouse, url, "lapsed", "vip")
        delivered = vendor.events(app)
        assert vendor.holders(app, "vip") == store.email_members("vip")
        assert vendor.holders(app, "lapsed") == store.email_members("lapsed")
    assert [s.segment for s in report.segments] == ["lapsed", "vip"]
    assert [(e.change, e.key) for e in delivered] == [
        ("exited", "person5@example.com"),
        ("entered", "person5@example.com"),
    ]


@pytest.mark.postgres
def test_changes_converge_with_exactly_one_event_each(
    warehouse_location: str, vendor: Vendor
) -> None:
    store = store_of(120)
    with vendor.sandbox() as (app, url), empty_models(warehouse_location) as warehouse:
        publish(warehouse, store, T0)
        sync(vendor, warehouse, url, "vip")

        leavers = [f"p{i:04d}" for i in range(0, 120, 10)]
        for person_id in leavers:
            del store.members[("vip", person_id)]
        for i in range(15):
            person = Person(f"n{i:03d}", f"new{i}@example.com")
            store.people[person.person_id] = person
            store.members[("vip", person.person_id)] = {"first_name": "New", "orders": 1}
        store.members[("vip", "p0001")] = {"first_name": "Renamed", "orders": 99}
        publish(warehouse, store, T0 + timedelta(days=1))
        report = sync(vendor, warehouse, url, "vip")
        again = sync(vendor, warehouse, url, "vip")

        assert vendor.holders(app, "vip") == store.email_members("vip")
        delivered = vendor.events(app)
        assert vendor.traits(app, "person1@example.com")["first_name"] == "Renamed"
    (segment,) = report.segments
    assert (segment.added, segment.removed, segment.updated, segment.events) == (15, 12, 1, 27)
    assert len({event.event_id for event in delivered}) == len(delivered) == 27
    assert {e.key for e in delivered if e.change == "entered"} == {
        f"new{i}@example.com" for i in range(15)
    }
    assert {e.key for e in delivered if e.change == "exited"} == {
        f"person{int(p[1:])}@example.com" for p in leavers
    }
    changes = [event.change for event in delivered]
    assert changes == ["exited"] * 12 + ["entered"] * 15, "leavers go before newcomers"
    assert again.api_calls == 0, "a sync with nothing to do makes no API call"


def test_a_bad_row_is_quarantined_with_a_reason_and_the_rest_lands(
    duckdb_url: str, vendor: Vendor
) -> None:
    store = store_of(30)
    store.people["bad1"] = Person("bad1", "not-an-email@")
    store.members[("vip", "bad1")] = {"first_name": "Bad"}
    with vendor.sandbox() as (app, url), empty_models(duckdb_url) as warehouse:
        publish(warehouse, store, T0)
        report = sync(vendor, warehouse, url, "vip")
        errors = row_errors(warehouse, vendor.name)
        again = sync(vendor, warehouse, url, "vip")
        holders = vendor.holders(app, "vip")
    assert holders == store.email_members("vip") - {"not-an-email@"}
    assert set(errors) == {"not-an-email@"}
    retryable, reason = errors["not-an-email@"]
    assert not retryable and reason and "not-an-email" not in reason
    assert report.permanent_failures == 1
    assert again.api_calls == 0, "a quarantined row is not re-sent until its data changes"


def test_faults_and_lost_answers_converge_without_a_second_event(
    duckdb_url: str, vendor: Vendor
) -> None:
    """30% of calls fail (429, 5xx, answers held past the client's timeout, connections
    dropped before and after the vendor acted) over five days of membership changes; once the
    faults stop, one more sync leaves the vendor exactly as the warehouse says, and every
    change was delivered as exactly one event."""
    rng = random.Random(11)
    store = store_of(80)
    faults = Faults(rate=0.3, timeout_seconds=0.3, partial_job_rate=0.1)
    expected: dict[str, int] = {}
    with vendor.sandbox(faults, seed=7) as (app, url), empty_models(duckdb_url) as warehouse:
        publish(warehouse, store, T0)
        sync(vendor, warehouse, url, "vip", COHORTFLOW_HTTP_TIMEOUT="0.1")
        for day in range(1, 6):
            members = [p for (s, p) in store.members if s == "vip"]
            for person_id in rng.sample(members, 6):
                del store.members[("vip", person_id)]
                expected["exited"] = expected.get("exited", 0) + 1
            for i in range(6):
                person = Person(f"d{day}n{i}", f"d{day}n{i}@example.com")
                store.people[person.person_id] = person
                store.members[("vip", person.person_id)] = {"first_name": "New"}
                expected["entered"] = expected.get("entered", 0) + 1
            publish(warehouse, store, T0 + timedelta(days=day))
            sync(vendor, warehouse, url, "vip", COHORTFLOW_HTTP_TIMEOUT="0.1")
        app.set_faults(Faults())
        for _ in range(3):
            final = sync(vendor, warehouse, url, "vip")
            if final.status == "synced":
                break
        assert final.status == "synced"
        assert vendor.holders(app, "vip") == store.email_members("vip")
        assert ledger_keys(warehouse, vendor.name, "vip") == store.email_members("vip")
        delivered = vendor.events(app)
    ids = [event.event_id for event in delivered]
    assert len(ids) == len(set(ids)), "an event was delivered twice"
    counts = {change: sum(e.change == change for e in delivered) for change in expected}
    assert counts == expected


def test_the_api_key_appears_nowhere(
    duckdb_url: str, vendor: Vendor, caplog: pytest.LogCaptureFixture
) -> None:
    """Not in logs (debug included), reports or errors: neither the right key under faults nor
    a wrong one the vendor refuses."""
    caplog.set_level(logging.DEBUG)
    store = store_of(40)
    faults = Faults(rate=0.3, timeout_seconds=0.3)
    wrong_key = "x" + vendor.api_key
    with vendor.sandbox(faults, seed=5) as (_, url), empty_models(duckdb_url) as warehouse:
        publish(warehouse, store, T0)
        with pytest.raises(DestinationFailed) as refused:
            sync(vendor, warehouse, url, "vip", **{f"{vendor.env_prefix}_API_KEY": wrong_key})
        report = sync(vendor, warehouse, url, "vip", COHORTFLOW_HTTP_TIMEOUT="0.1")
    failure = refused.value.report
    assert failure.error and failure.status == "failed"
    text = "".join(
        [json.dumps(report.as_dict()), json.dumps(failure.as_dict()), str(refused.value)]
    )
    text += caplog.text
    assert vendor.api_key not in text and wrong_key not in text
