"""Syncing segments into the Klaviyo sandbox over real loopback sockets, on both warehouses."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta

import pytest

from activations.planner import build_plan
from activations.quality.results import CheckReport, CheckResult
from activations.runner import run_sync
from activations.sandbox import Faults, SandboxServer
from activations.sandbox.klaviyo import KlaviyoSandbox
from activations.segment_config import parse_segment_config
from activations.settings import Settings
from activations.warehouse import Warehouse, connect
from tests.support.activation import (
    Person,
    Store,
    empty_models,
    klaviyo_configs,
    ledger_keys,
    publish,
    row_errors,
)
from tests.support.vendors import KLAVIYO

pytestmark = pytest.mark.integration

API_KEY = "pk_test_4f9c2e7a1b"
T0 = datetime(2026, 6, 1, 12, 0, 0)


@pytest.fixture
def sandbox() -> Iterator[tuple[KlaviyoSandbox, str]]:
    app = KlaviyoSandbox(api_key=API_KEY, time_scale=1000.0, seed=1)
    with SandboxServer(app.app) as server:
        yield app, server.url


def environ(url: str) -> dict[str, str]:
    return {"KLAVIYO_API_KEY": API_KEY, "KLAVIYO_BASE_URL": url, "COHORTFLOW_TIME_SCALE": "1000"}


def sync(warehouse: Warehouse, url: str, *segments: str, monkeypatch: pytest.MonkeyPatch):
    for name, value in environ(url).items():
        monkeypatch.setenv(name, value)
    settings = Settings(warehouse=warehouse)
    return run_sync(
        settings, destination="klaviyo", configs=klaviyo_configs(*segments), environ=environ(url)
    )


def store_of(size: int, *, segment: str = "vip", subscribed_every: int = 3) -> Store:
    store = Store()
    for i in range(size):
        person = Person(f"p{i:04d}", f"person{i}@example.com")
        store.people[person.person_id] = person
        store.members[(segment, person.person_id)] = {"first_name": f"P{i}", "orders": i % 7}
        store.consent[person.email or ""] = (
            "subscribed" if i % subscribed_every == 0 else "unsubscribed"
        )
    return store


def test_first_sync_fills_the_list_without_entered_events(
    warehouse_location: str, sandbox: tuple[KlaviyoSandbox, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    app, url = sandbox
    store = store_of(250)
    with empty_models(warehouse_location) as warehouse:
        publish(warehouse, store, T0)
        report = sync(warehouse, url, "vip", monkeypatch=monkeypatch)

        assert app.state.list_members("List vip") == store.email_members("vip")
        assert ledger_keys(warehouse, "klaviyo", "vip") == store.email_members("vip")
    assert [s.added for s in report.segments] == [250]
    assert app.state.events == [], "the baseline sync must not fire Entered for existing members"
    subscribed = {e for e, status in store.consent.items() if status == "subscribed"}
    granted = {e for e, status in app.state.subscriptions.items() if status == "SUBSCRIBED"}
    assert granted == subscribed
    assert report.consents_granted == len(subscribed)
    # One subscribe job (<= 1,000 addresses) on top of what the segment's sync took.
    assert report.api_calls == sum(s.api_calls for s in report.segments) + 1


def test_changes_become_list_moves_trait_updates_and_one_event_each(
    warehouse_location: str, sandbox: tuple[KlaviyoSandbox, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    app, url = sandbox
    store = store_of(120)
    with empty_models(warehouse_location) as warehouse:
        publish(warehouse, store, T0)
        sync(warehouse, url, "vip", monkeypatch=monkeypatch)

        leavers = [f"p{i:04d}" for i in range(0, 120, 10)]
        for person_id in leavers:
            del store.members[("vip", person_id)]
        newcomers = [Person(f"n{i:03d}", f"new{i}@example.com") for i in range(15)]
        for person in newcomers:
            store.people[person.person_id] = person
            store.members[("vip", person.person_id)] = {"first_name": "New", "orders": 1}
        store.members[("vip", "p0001")] = {"first_name": "Renamed", "orders": 99}
        publish(warehouse, store, T0 + timedelta(days=1))
        report = sync(warehouse, url, "vip", monkeypatch=monkeypatch)
        again = sync(warehouse, url, "vip", monkeypatch=monkeypatch)

    assert app.state.list_members("List vip") == store.email_members("vip")
    (segment,) = report.segments
    assert (segment.added, segment.removed, segment.updated) == (15, 12, 1)
    assert segment.events == 27
    metrics = sorted((e.metric, e.unique_id) for e in app.state.events)
    assert len(metrics) == len(set(metrics)) == 27
    assert sum(m == "Entered segment" for m, _ in metrics) == 15
    assert sum(m == "Exited segment" for m, _ in metrics) == 12
    renamed = next(p for p in app.state.profiles.values() if p.email == "person1@example.com")
    assert renamed.properties["first_name"] == "Renamed"
    assert again.api_calls == 0, "a sync with nothing to do makes no API call"


def test_bad_rows_are_quarantined_with_a_reason_and_do_not_block_the_rest(
    duckdb_url: str, sandbox: tuple[KlaviyoSandbox, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    app, url = sandbox
    store = store_of(40)
    store.people["bad1"] = Person("bad1", "not-an-email@")
    store.members[("vip", "bad1")] = {"first_name": "Bad"}
    store.people["big1"] = Person("big1", "big@example.com")
    store.members[("vip", "big1")] = {"notes": "x" * 120_000}
    # Two people sharing one phone: profiles are keyed by email alone, so both are synced and
    # neither is merged into the other.
    store.people["twin1"] = Person("twin1", "twin1@example.com", "+14155550101")
    store.people["twin2"] = Person("twin2", "twin2@example.com", "+14155550101")
    store.members[("vip", "twin1")] = {"first_name": "Twin"}
    store.members[("vip", "twin2")] = {"first_name": "Twin"}
    with empty_models(duckdb_url) as warehouse:
        publish(warehouse, store, T0)
        report = sync(warehouse, url, "vip", monkeypatch=monkeypatch)
        errors = row_errors(warehouse, "klaviyo")
        held = ledger_keys(warehouse, "klaviyo", "vip")
        listed = app.state.list_members("List vip")
        again = sync(warehouse, url, "vip", monkeypatch=monkeypatch)
        with connect(warehouse) as connection:
            (plan,) = build_plan(
                connection, state_schema="cohortflow_state", configs=klaviyo_configs("vip")
            ).segments

        store.members[("vip", "big1")] = {"notes": "fixed"}
        publish(warehouse, store, T0 + timedelta(hours=1))
        fixed = sync(warehouse, url, "vip", monkeypatch=monkeypatch)

    good = store.email_members("vip") - {"not-an-email@", "big@example.com"}
    assert listed == good == held
    assert set(errors) == {"not-an-email@", "big@example.com"}
    assert errors["big@example.com"] == (False, "traits over 100 KB")
    retryable, reason = errors["not-an-email@"]
    assert not retryable and "invalid" in reason
    assert report.permanent_failures == 2
    assert "not-an-email" not in reason, "reasons never quote the address"
    # Quarantined: not re-sent (and failing) every run, only once their data changes.
    assert again.api_calls == 0 and again.permanent_failures == 0
    assert plan.quarantined == 2 and plan.adds == 0
    assert [s.added for s in fixed.segments] == [1]
    assert "big@example.com" in app.state.list_members("List vip")


def test_a_segment_klaviyo_keeps_failing_is_reported_and_the_others_still_run(
    duckdb_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = KlaviyoSandbox(
        api_key=API_KEY, faults=Faults(rate=1.0, kinds=("503",)), time_scale=1000.0, seed=2
    )
    store = store_of(10)
    for (_, person_id), traits in list(store.members.items()):
        store.members[("lapsed", person_id)] = traits
    with SandboxServer(app.app) as server, empty_models(duckdb_url) as warehouse:
        publish(warehouse, store, T0)
        report = sync(warehouse, server.url, "vip", "lapsed", monkeypatch=monkeypatch)
        held = ledger_keys(warehouse, "klaviyo", "vip") | ledger_keys(
            warehouse, "klaviyo", "lapsed"
        )

    assert [s.status for s in report.segments] == ["failed", "failed"]
    assert all("503" in (s.message or "") for s in report.segments)
    assert held == set()


def test_a_consent_hold_neither_grants_nor_withdraws_consent(
    warehouse_location: str, sandbox: tuple[KlaviyoSandbox, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A broken consents load (everyone suddenly unsubscribed) behind a failed check must not
    unsubscribe anyone at Klaviyo; once the hold is gone the warehouse is followed again."""
    app, url = sandbox
    store = store_of(30)
    with empty_models(warehouse_location) as warehouse:
        publish(warehouse, store, T0)
        sync(warehouse, url, "vip", monkeypatch=monkeypatch)
        granted = {e for e, s in app.state.subscriptions.items() if s == "SUBSCRIBED"}
        assert granted

        store.consent = dict.fromkeys(store.consent, "unsubscribed")
        publish(warehouse, store, T0 + timedelta(days=1))
        held = run_sync(
            Settings(warehouse=warehouse),
            destination="klaviyo",
            configs=klaviyo_configs("vip"),
            environ=environ(url),
            checks=CheckReport(
                check_run_id="chk-run",
                run_id=None,
                checked_at=T0,
                results=(
                    CheckResult(
                        check="raw_freshness",
                        subject="raw.consents",
                        status="failed",
                        blocking=True,
                        message="raw.consents is 3 days old",
                    ),
                ),
            ),
        )
        assert held.consent_held and held.consents_revoked == 0
        assert {e for e, s in app.state.subscriptions.items() if s == "SUBSCRIBED"} == granted

        released = sync(warehouse, url, "vip", monkeypatch=monkeypatch)
        assert released.consents_revoked == len(granted)
        assert not {e for e, s in app.state.subscriptions.items() if s == "SUBSCRIBED"}


def test_a_move_away_from_a_list_deleted_in_klaviyo_lands_in_the_new_one(
    duckdb_url: str, sandbox: tuple[KlaviyoSandbox, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The marketer deleted the old list and renamed the segment's `list:`: its members are
    added to the new list, and no empty copy of the old one is created to remove them from."""
    app, url = sandbox
    store = store_of(25)
    renamed = KLAVIYO.configs("vip", targets={"vip": "VIP (2027)"})
    with empty_models(duckdb_url) as warehouse:
        publish(warehouse, store, T0)
        sync(warehouse, url, "vip", monkeypatch=monkeypatch)
        (old,) = (i for i, name in app.state.lists.items() if name == "List vip")
        app.state.delete_list(old)
        report = run_sync(
            Settings(warehouse=warehouse),
            destination="klaviyo",
            configs=renamed,
            environ=environ(url),
        )
    assert report.status == "synced"
    (segment,) = report.segments
    assert (segment.moved_from, segment.moved_to) == ("List vip", "VIP (2027)")
    assert sorted(app.state.lists.values()) == ["VIP (2027)"]
    assert app.state.list_members("VIP (2027)") == store.email_members("vip")


def test_a_phone_keyed_segment_grants_no_email_consent(
    duckdb_url: str, sandbox: tuple[KlaviyoSandbox, str]
) -> None:
    # Klaviyo carries email consent only, on the profile an email identifies: a subscribe job
    # for the email of a phone-keyed member would make a second profile for the person.
    app, url = sandbox
    store = Store()
    for i in range(3):
        person = Person(f"p{i}", f"p{i}@example.com", f"+1415555{i:04d}")
        store.people[person.person_id] = person
        store.members[("vip", person.person_id)] = {}
        store.consent[f"p{i}@example.com"] = "subscribed"
    configs = {
        "vip": parse_segment_config(
            "vip", {"key": "phone", "destinations": {"klaviyo": {"list": "List vip"}}}
        )
    }
    with empty_models(duckdb_url) as warehouse:
        publish(warehouse, store, T0)
        report = run_sync(
            Settings(warehouse=warehouse),
            destination="klaviyo",
            configs=configs,
            environ=environ(url),
        )
    assert [s.added for s in report.segments] == [3] and report.consents_granted == 0
    assert app.state.subscriptions == {}
    assert {p.email for p in app.state.profiles.values()} == {None}
