"""The destination contract: every vendor, through the same scenarios, against its own sandbox.

A destination that does not pass this file is not a destination. Each scenario drives
`run_sync` the way `cohortflow sync` does, then reads back what the vendor holds through
`tests/support/vendors.py`: first sync is a baseline with no enter events; adds, removes and
trait updates converge with exactly one event per change; bad rows are quarantined with a reason
that never quotes the address; lost answers and injected faults converge; renaming a segment's
list or tag moves its members; the API key appears nowhere.
"""

from __future__ import annotations

import json
import logging
import random
from collections.abc import Mapping
from datetime import datetime, timedelta

import pytest

from activations.planner import build_plan
from activations.reports import SyncReport
from activations.runner import DestinationFailed, run_sync
from activations.sandbox import Faults
from activations.settings import Settings
from activations.warehouse import Warehouse, connect
from tests.support.activation import (
    Person,
    Store,
    empty_models,
    ledger_keys,
    publish,
    recorded_targets,
    row_errors,
)
from tests.support.vendors import TIME_SCALE, VENDORS, FailingRemovals, Vendor

pytestmark = pytest.mark.integration

T0 = datetime(2026, 6, 1, 12, 0, 0)


@pytest.fixture(params=VENDORS, ids=lambda vendor: vendor.name)
def vendor(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Vendor:
    # The client's pacing and polling read the time scale from the process environment.
    monkeypatch.setenv("COHORTFLOW_TIME_SCALE", str(TIME_SCALE))
    return request.param  # type: ignore[no-any-return]


def sync(
    vendor: Vendor,
    warehouse: Warehouse,
    url: str,
    *segments: str,
    targets: Mapping[str, str] | None = None,
    **env: str,
) -> SyncReport:
    return run_sync(
        Settings(warehouse=warehouse),
        destination=vendor.name,
        configs=vendor.configs(*segments, targets=targets),
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


def test_renaming_the_list_or_tag_moves_the_members(duckdb_url: str, vendor: Vendor) -> None:
    """The YAML names a new list or tag while one member leaves and one joins: the old place
    ends empty, the new one holds the segment, the leaver and the newcomer get one event each
    and the people who stayed none."""
    store = store_of(40)
    renamed = {"vip": vendor.target("vip") + " renamed"}
    with vendor.sandbox() as (app, url), empty_models(duckdb_url) as warehouse:
        publish(warehouse, store, T0)
        sync(vendor, warehouse, url, "vip")
        del store.members[("vip", "p0003")]
        store.people["n1"] = Person("n1", "newcomer@example.com")
        store.members[("vip", "n1")] = {"first_name": "New"}
        publish(warehouse, store, T0 + timedelta(days=1))
        with connect(warehouse) as connection:
            (planned,) = build_plan(
                connection,
                state_schema="cohortflow_state",
                configs=vendor.configs("vip", targets=renamed),
            ).segments
        report = sync(vendor, warehouse, url, "vip", targets=renamed)
        old = vendor.holders(app, "vip")
        new = vendor.held_at(app, renamed["vip"])
        delivered = [(e.change, e.key) for e in vendor.events(app)]
        again = sync(vendor, warehouse, url, "vip", targets=renamed)
        recorded = recorded_targets(warehouse, vendor.name)
    assert (planned.moving_from, planned.target, planned.moves) == (
        vendor.target("vip"),
        renamed["vip"],
        40,
    )
    (segment,) = report.segments
    assert old == set() and new == store.email_members("vip")
    assert (segment.moved_from, segment.moved_to) == (vendor.target("vip"), renamed["vip"])
    assert delivered == [("exited", "person3@example.com"), ("entered", "newcomer@example.com")]
    assert recorded == renamed
    assert again.api_calls == 0, "a finished move is not made again"


def test_a_move_cut_short_adds_nobody_until_a_later_sync_finishes_it(
    duckdb_url: str, vendor: Vendor
) -> None:
    """The vendor stops answering after the first removal call of a move: nobody is added to
    the new place while the old one still holds members (the ledger would no longer say where
    they are), the report says why, and the next sync finishes the move with no event sent."""
    store = store_of(1_100)
    renamed = {"vip": vendor.target("vip") + " renamed"}
    failing: list[FailingRemovals] = []

    def wrap(app: object) -> FailingRemovals:
        failing.append(FailingRemovals(app, vendor))
        return failing[-1]

    with vendor.sandbox(wrap=wrap) as (app, url), empty_models(duckdb_url) as warehouse:
        publish(warehouse, store, T0)
        sync(vendor, warehouse, url, "vip")
        failing[0].failing = True
        cut_short = sync(vendor, warehouse, url, "vip", targets=renamed)
        midway = vendor.holders(app, "vip"), vendor.held_at(app, renamed["vip"])
        failing[0].failing = False
        finished = sync(vendor, warehouse, url, "vip", targets=renamed)
        held = vendor.holders(app, "vip"), vendor.held_at(app, renamed["vip"])
        delivered = vendor.events(app)
        recorded = recorded_targets(warehouse, vendor.name)
    (segment,) = cut_short.segments
    assert segment.status == "failed" and "nobody is added" in str(segment.message)
    assert 0 < len(midway[0]) < 1_100, "the move was meant to stop part way"
    assert midway[1] == set(), "members were added to the new place mid-move"
    assert finished.status == "synced" and finished.segments[0].moved_to == renamed["vip"]
    assert held == (set(), store.email_members("vip"))
    assert recorded == renamed
    assert delivered == [], "moving members is not a change of membership"


def test_two_segments_swapping_places_each_end_in_its_new_one(
    duckdb_url: str, vendor: Vendor
) -> None:
    """vip takes lapsed's list or tag and lapsed takes vip's, with someone in both segments:
    both places end holding exactly their new segment."""
    store = store_of(30)
    for i in range(20, 30):
        store.members[("lapsed", f"p{i:04d}")] = store.members.pop(("vip", f"p{i:04d}"))
    store.members[("lapsed", "p0000")] = {"first_name": "Both"}
    swapped = {"vip": vendor.target("lapsed"), "lapsed": vendor.target("vip")}
    with vendor.sandbox() as (app, url), empty_models(duckdb_url) as warehouse:
        publish(warehouse, store, T0)
        sync(vendor, warehouse, url, "lapsed", "vip")
        report = sync(vendor, warehouse, url, "lapsed", "vip", targets=swapped)
        at_lapsed_place = vendor.holders(app, "lapsed")
        at_vip_place = vendor.holders(app, "vip")
        recorded = recorded_targets(warehouse, vendor.name)
    assert report.status == "synced"
    assert at_lapsed_place == store.email_members("vip")
    assert at_vip_place == store.email_members("lapsed")
    assert recorded == swapped


def test_a_swap_waits_for_the_move_away_from_the_place_it_takes(
    duckdb_url: str, vendor: Vendor
) -> None:
    """lapsed moves first and finishes; vip's move away from the place lapsed takes is cut
    short. lapsed is not added there until vip's move is done, or that move's next pass would
    take away the member both segments share."""
    store = store_of(1_100)
    store.members[("lapsed", "p0000")] = {"first_name": "Both"}
    store.members[("lapsed", "p0001")] = store.members.pop(("vip", "p0001"))
    swapped = {"vip": vendor.target("lapsed"), "lapsed": vendor.target("vip")}
    failing: list[FailingRemovals] = []

    def wrap(app: object) -> FailingRemovals:
        failing.append(FailingRemovals(app, vendor))
        return failing[-1]

    with vendor.sandbox(wrap=wrap) as (app, url), empty_models(duckdb_url) as warehouse:
        publish(warehouse, store, T0)
        sync(vendor, warehouse, url, "lapsed", "vip")
        failing[0].failing = True
        cut_short = sync(vendor, warehouse, url, "lapsed", "vip", targets=swapped)
        failing[0].failing = False
        finished = sync(vendor, warehouse, url, "lapsed", "vip", targets=swapped)
        at_lapsed_place = vendor.holders(app, "lapsed")
        at_vip_place = vendor.holders(app, "vip")
    waited = {s.segment: s for s in cut_short.segments}["lapsed"]
    assert waited.status == "failed" and "still moving its members away" in str(waited.message)
    assert finished.status == "synced"
    assert at_lapsed_place == store.email_members("vip")
    assert at_vip_place == store.email_members("lapsed")


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
