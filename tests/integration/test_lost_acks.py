"""A sync killed after the vendor accepted a change but before the ledger recorded it still
converges, for every destination.

The child process dies at the `sync_before_ack` or `sync_before_event_ack` failpoint: the
sandbox holds the change or the event, the ledger does not. Whatever the membership does next,
the following sync must leave the list or tag, and the consent, exactly as the warehouse says,
and send no event a second time.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from activations.failpoints import ENV_VAR
from tests.support import sync_child
from tests.support.activation import Person, Store, empty_models, ledger_keys, publish
from tests.support.vendors import VENDORS, Vendor

pytestmark = pytest.mark.integration

T0 = datetime(2026, 6, 1, 8)


def sync(
    vendor: Vendor, location: str, url: str, *, crash: bool, at: str = "sync_before_ack"
) -> int:
    """One sync in a child process; with `crash`, it dies at failpoint `at`."""
    environ = {**vendor.environ(url), "COHORTFLOW_WAREHOUSE": location}
    if crash:
        environ[ENV_VAR] = at
    child = sync_child.start(vendor, ("vip",), environ)
    child.communicate(timeout=120)
    return child.returncode


@pytest.mark.parametrize("vendor", VENDORS, ids=[v.name for v in VENDORS])
def test_unrecorded_adds_removes_and_consent_still_converge(
    duckdb_url: str, vendor: Vendor
) -> None:
    store = Store()
    for i in range(20):
        store.people[f"p{i}"] = Person(f"p{i}", f"p{i}@example.com")
        store.members[("vip", f"p{i}")] = {"n": i}
    with vendor.sandbox(seed=3) as (app, url), empty_models(duckdb_url) as warehouse:
        publish(warehouse, store, T0)
        assert sync(vendor, duckdb_url, url, crash=True) < 0, "the child must die at the failpoint"
        assert vendor.holders(app, "vip") == store.email_members("vip")
        assert ledger_keys(warehouse, vendor.name, "vip") == set()

        # An add the vendor holds but the ledger never recorded: the person leaves, and the
        # exit event the vendor accepted is not recorded either (it must not be sent again).
        del store.members[("vip", "p0")]
        publish(warehouse, store, T0 + timedelta(days=1))
        assert sync(vendor, duckdb_url, url, crash=True, at="sync_before_event_ack") < 0
        assert [(e.change, e.key) for e in vendor.events(app)] == [("exited", "p0@example.com")]
        assert sync(vendor, duckdb_url, url, crash=False) == 0
        assert vendor.holders(app, "vip") == store.email_members("vip")

        # A removal the vendor carried out but the ledger never recorded: the person comes back.
        del store.members[("vip", "p1")]
        publish(warehouse, store, T0 + timedelta(days=2))
        assert sync(vendor, duckdb_url, url, crash=True) < 0
        assert "p1@example.com" not in vendor.holders(app, "vip")
        store.members[("vip", "p1")] = {"n": 1}
        publish(warehouse, store, T0 + timedelta(days=3))
        assert sync(vendor, duckdb_url, url, crash=False) == 0
        assert vendor.holders(app, "vip") == store.email_members("vip")
        assert ledger_keys(warehouse, vendor.name, "vip") == store.email_members("vip")

        # Consent granted but never recorded, then withdrawn in the warehouse.
        store.consent["p5@example.com"] = "subscribed"
        publish(warehouse, store, T0 + timedelta(days=4))
        assert sync(vendor, duckdb_url, url, crash=True) < 0
        assert vendor.subscribed(app) == {"p5@example.com"}
        store.consent["p5@example.com"] = "unsubscribed"
        publish(warehouse, store, T0 + timedelta(days=5))
        assert sync(vendor, duckdb_url, url, crash=False) == 0
        assert vendor.subscribed(app) == set()
        delivered = sorted((e.change, e.key) for e in vendor.events(app))
    assert delivered == [
        ("entered", "p1@example.com"),
        ("exited", "p0@example.com"),
        ("exited", "p1@example.com"),
    ], "one event for each change, none lost or repeated by the crashes"
