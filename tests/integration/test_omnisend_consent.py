"""Omnisend consent per channel: SMS consent on the phone of contacts a segment keys by phone,
email consent on the email of contacts keyed by email, each only where the warehouse's latest
consent on that channel says subscribed, withdrawn only where cohortflow granted it, and never on
an address the segment does not key its contacts by (that would create a second contact)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa

from activations.runner import run_sync
from activations.sandbox.omnisend import OmnisendSandbox
from activations.segment_config import SegmentConfig, parse_segment_config
from activations.settings import Settings
from activations.warehouse import Warehouse, connect
from tests.support.activation import Person, Store, empty_models, publish
from tests.support.vendors import OMNISEND

pytestmark = pytest.mark.integration

T0 = datetime(2026, 6, 1, 9)


def configs(key: str) -> dict[str, SegmentConfig]:
    block = {"tag": "winback", "events": False, "max_exit_fraction": 1}
    return {
        "winback": parse_segment_config(
            "winback", {"key": key, "destinations": {"omnisend": block}}
        )
    }


def statuses(app: OmnisendSandbox, kind: str, channel: str) -> dict[str, str | None]:
    """Each contact's `kind` identifier (email or phone) and its `channel` status."""
    OMNISEND.held_at(app, "winback")  # settles the batches
    with app.state.lock:
        return {
            str(identifier["id"]): identifier.get("channels", {}).get(channel, {}).get("status")
            for contact in app.state.contacts.values()
            for identifier in contact.identifiers
            if identifier["type"] == kind
        }


def recorded(warehouse: Warehouse) -> set[tuple[str, str, str]]:
    with connect(warehouse) as connection:
        rows = connection.execute(
            sa.text(
                "select channel, address, status from cohortflow_state.sync_consents "
                "where destination = 'omnisend'"
            )
        )
        return {(str(c), str(a), str(s)) for c, a, s in rows}


def people(store: Store, count: int) -> None:
    for i in range(count):
        person = Person(f"p{i}", f"p{i}@example.com", f"+1415555{i:04d}")
        store.people[person.person_id] = person
        store.members[("winback", person.person_id)] = {"n": i}
        store.consent[str(person.email)] = "subscribed"


def sync(warehouse: Warehouse, url: str, key: str) -> Any:
    return run_sync(
        Settings(warehouse=warehouse),
        destination="omnisend",
        configs=configs(key),
        environ=OMNISEND.environ(url),
    )


def test_sms_consent_follows_the_warehouse_on_phone_keyed_contacts(duckdb_url: str) -> None:
    store = Store()
    people(store, 5)
    store.sms_consent = {
        "+14155550000": "subscribed",
        "+14155550001": "subscribed",
        "+14155550002": "subscribed",
        "+14155550003": "unsubscribed",
    }  # p4 has no SMS consent record at all
    with OMNISEND.sandbox() as (app, url), empty_models(duckdb_url) as warehouse:
        publish(warehouse, store, T0)
        first = sync(warehouse, url, "phone")
        assert statuses(app, "phone", "sms") == {
            "+14155550000": "subscribed",
            "+14155550001": "subscribed",
            "+14155550002": "subscribed",
            "+14155550003": None,
            "+14155550004": None,
        }
        assert statuses(app, "email", "email") == {}, "no contact was created for an email"
        assert first.consents_granted == 3

        # A marketer subscribed p4 by hand in Omnisend; the warehouse later says unsubscribed for
        # p0 (granted by cohortflow) and p4 (not): only p0 is withdrawn.
        with app.state.lock:
            contact = app.state.contacts[app.state.by_phone["+14155550004"]]
            contact.identifiers[0]["channels"] = {"sms": {"status": "subscribed"}}
        store.sms_consent |= {"+14155550000": "unsubscribed", "+14155550004": "unsubscribed"}
        publish(warehouse, store, T0 + timedelta(days=1))
        second = sync(warehouse, url, "phone")
        held = statuses(app, "phone", "sms")
        assert held["+14155550000"] == "unsubscribed"
        assert held["+14155550004"] == "subscribed", "consent cohortflow did not grant is kept"
        assert (second.consents_granted, second.consents_revoked) == (0, 1)
        assert recorded(warehouse) == {
            ("sms", "+14155550000", "unsubscribed"),
            ("sms", "+14155550001", "subscribed"),
            ("sms", "+14155550002", "subscribed"),
        }


def test_email_keyed_contacts_get_email_consent_and_no_phone(duckdb_url: str) -> None:
    store = Store()
    people(store, 3)
    store.consent["p2@example.com"] = "unsubscribed"
    store.sms_consent = {f"+141555500{i:02d}": "subscribed" for i in range(3)}
    with OMNISEND.sandbox() as (app, url), empty_models(duckdb_url) as warehouse:
        publish(warehouse, store, T0)
        report = sync(warehouse, url, "email")
        assert statuses(app, "email", "email") == {
            "p0@example.com": "subscribed",
            "p1@example.com": "subscribed",
            "p2@example.com": None,
        }
        assert statuses(app, "phone", "sms") == {}, "no phone was added to carry SMS consent"
        assert report.consents_granted == 2
        assert {channel for channel, _, _ in recorded(warehouse)} == {"email"}


def test_consent_omnisend_did_not_confirm_is_counted_and_granted_by_the_next_sync(
    duckdb_url: str,
) -> None:
    from activations.sandbox import Faults

    store = Store()
    people(store, 3)
    with OMNISEND.sandbox() as (app, url), empty_models(duckdb_url) as warehouse:
        publish(warehouse, store, T0)
        sync(warehouse, url, "email")  # contacts land; every consent item is granted
        store.consent |= {"p0@example.com": "unsubscribed"}
        publish(warehouse, store, T0 + timedelta(days=1))
        app.set_faults(Faults(partial_job_rate=1.0))  # every batch item fails, retryably
        missed = sync(warehouse, url, "email")
        app.set_faults(Faults())
        done = sync(warehouse, url, "email")
        held = statuses(app, "email", "email")
    assert (missed.consents_revoked, missed.consents_failed) == (0, 1)
    assert (done.consents_revoked, done.consents_failed) == (1, 0)
    assert held["p0@example.com"] == "unsubscribed"
