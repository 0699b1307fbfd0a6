"""Addressing enter/exit events against the Klaviyo sandbox, on both warehouses: an exit goes to
the profile the list holds, and an event nobody can be addressed by is skipped once."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta

import pytest
import sqlalchemy as sa

from activations.reports import SyncReport
from activations.runner import run_sync
from activations.sandbox import SandboxServer
from activations.sandbox.klaviyo import KlaviyoSandbox
from activations.settings import Settings
from activations.warehouse import Warehouse, connect
from tests.support.activation import (
    Person,
    Store,
    empty_models,
    klaviyo_configs,
    ledger_keys,
    publish,
)

pytestmark = pytest.mark.integration

API_KEY = "pk_test_exit_3c81"
T0 = datetime(2026, 6, 1, 12, 0, 0)
NO_EMAIL = "no email to address the event to"


@pytest.fixture
def sandbox() -> Iterator[tuple[KlaviyoSandbox, str]]:
    app = KlaviyoSandbox(api_key=API_KEY, time_scale=1000.0, seed=3)
    with SandboxServer(app.app) as server:
        yield app, server.url


def sync(warehouse: Warehouse, url: str, monkeypatch: pytest.MonkeyPatch) -> SyncReport:
    environ = {"KLAVIYO_API_KEY": API_KEY, "KLAVIYO_BASE_URL": url, "COHORTFLOW_TIME_SCALE": "1000"}
    for name, value in environ.items():
        monkeypatch.setenv(name, value)
    return run_sync(
        Settings(warehouse=warehouse),
        destination="klaviyo",
        configs=klaviyo_configs("vip"),
        environ=environ,
    )


def members_of(size: int) -> Store:
    store = Store()
    for i in range(size):
        person = Person(f"p{i}", f"person{i}@example.com")
        store.people[person.person_id] = person
        store.members[("vip", person.person_id)] = {"n": i}
    return store


def exited_emails(app: KlaviyoSandbox) -> list[str]:
    """The email of each profile an "Exited segment" event was recorded on."""
    profiles = app.state.profiles
    return sorted(
        str(profiles[event.profile_id].email)
        for event in app.state.events
        if event.metric == "Exited segment"
    )


def test_an_exit_reaches_the_profile_in_the_list_though_the_email_is_gone_or_changed(
    warehouse_location: str, sandbox: tuple[KlaviyoSandbox, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    app, url = sandbox
    store = members_of(8)
    with empty_models(warehouse_location) as warehouse:
        publish(warehouse, store, T0)
        sync(warehouse, url, monkeypatch)
        assert "person3@example.com" in app.state.list_members("List vip")
        before = len(app.state.requests.log)

        # Three leave: p3's email is deleted from the warehouse as they go, p4's changes, p5
        # keeps theirs.
        for person_id in ("p3", "p4", "p5"):
            del store.members[("vip", person_id)]
        store.people["p3"] = Person("p3", None)
        store.people["p4"] = Person("p4", "changed4@example.com")
        publish(warehouse, store, T0 + timedelta(days=1))
        report = sync(warehouse, url, monkeypatch)
        held = ledger_keys(warehouse, "klaviyo", "vip")

    (segment,) = report.segments
    assert (segment.status, segment.events, segment.removed) == ("synced", 3, 3)
    assert (segment.failed_events, segment.skipped_events) == (0, 0)
    assert exited_emails(app) == [f"person{i}@example.com" for i in (3, 4, 5)]
    assert not any(p.email == "changed4@example.com" for p in app.state.profiles.values()), (
        "an exit must not create a profile for an address Klaviyo never had in the list"
    )
    assert app.state.list_members("List vip") == held == store.email_members("vip")
    # The exit events went out while the leavers were still in the list.
    operations = [r.operation_id for r in app.state.requests.log[before:]]
    assert "bulk_create_events" in operations and "remove_profiles_from_list" in operations
    assert operations.index("bulk_create_events") < operations.index("remove_profiles_from_list")


def test_an_event_with_no_address_is_skipped_with_its_reason_once(
    warehouse_location: str, sandbox: tuple[KlaviyoSandbox, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    app, url = sandbox
    store = members_of(4)
    store.people["ghost"] = Person("ghost", None)  # never had an email, never synced
    with empty_models(warehouse_location) as warehouse:
        publish(warehouse, store, T0)
        sync(warehouse, url, monkeypatch)

        store.members[("vip", "ghost")] = {"n": -1}
        store.people["new"] = Person("new", "new@example.com")
        store.members[("vip", "new")] = {"n": 9}
        publish(warehouse, store, T0 + timedelta(days=1))
        entered = sync(warehouse, url, monkeypatch)
        (first,) = entered.segments
        assert (first.status, first.events, first.failed_events) == ("synced", 1, 0)
        assert first.skipped_events == 1 and dict(first.skip_reasons) == {NO_EMAIL: 1}
        assert first.as_dict()["skip_reasons"] == {NO_EMAIL: 1}
        assert not first.reasons, "a skipped event is not a failure"
        assert entered.status == "synced"
        again = sync(warehouse, url, monkeypatch)
        publish(warehouse, store, T0 + timedelta(days=2))
        next_run = sync(warehouse, url, monkeypatch)

        del store.members[("vip", "ghost")]
        publish(warehouse, store, T0 + timedelta(days=3))
        exited = sync(warehouse, url, monkeypatch)
        with connect(warehouse) as connection:
            settled = sorted(
                (str(row.outcome), str(row.reason))
                for row in connection.execute(
                    sa.text(
                        "select outcome, reason from cohortflow_state.sync_event_acks "
                        "where outcome = 'skipped'"
                    )
                )
            )

    for later in (again, next_run):
        (segment,) = later.segments
        assert (segment.status, segment.skipped_events, later.api_calls) == ("up to date", 0, 0)
    (gone,) = exited.segments
    assert (gone.status, gone.skipped_events, gone.failed_events) == ("synced", 1, 0)
    assert settled == [("skipped", NO_EMAIL), ("skipped", NO_EMAIL)]
    assert [e.metric for e in app.state.events] == ["Entered segment"]
