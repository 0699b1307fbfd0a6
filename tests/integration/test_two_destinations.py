"""One segment at Klaviyo and Omnisend at once: each destination has its own ledger and plan, so
one failing every call neither stops nor disturbs the other, and its failure is reported."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from activations.runner import run_sync
from activations.sandbox import Faults
from activations.segment_config import parse_segment_config
from activations.settings import Settings
from tests.support.activation import Person, Store, empty_models, ledger_keys, publish
from tests.support.vendors import KLAVIYO, OMNISEND, TIME_SCALE

pytestmark = pytest.mark.integration

T0 = datetime(2026, 6, 1, 12)


def test_a_destination_failing_every_call_leaves_the_other_converging(
    duckdb_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COHORTFLOW_TIME_SCALE", str(TIME_SCALE))
    configs = {
        "vip": parse_segment_config(
            "vip",
            {
                "key": "email",
                "destinations": {
                    "klaviyo": {**KLAVIYO.block("vip"), "events": True, "max_exit_fraction": 1},
                    "omnisend": {**OMNISEND.block("vip"), "events": True, "max_exit_fraction": 1},
                },
            },
        )
    }
    store = Store()
    for i in range(40):
        store.people[f"p{i}"] = Person(f"p{i}", f"p{i}@example.com")
        store.members[("vip", f"p{i}")] = {"n": i}
    failing = Faults(rate=1.0, kinds=("503",))
    with (
        KLAVIYO.sandbox(failing) as (klaviyo, klaviyo_url),
        OMNISEND.sandbox() as (omnisend, omnisend_url),
        empty_models(duckdb_url) as warehouse,
    ):
        environ = {**KLAVIYO.environ(klaviyo_url), **OMNISEND.environ(omnisend_url)}
        settings = Settings(warehouse=warehouse)
        reports = []
        for day in range(3):
            if day:
                del store.members[("vip", f"p{day}")]
                store.people[f"n{day}"] = Person(f"n{day}", f"n{day}@example.com")
                store.members[("vip", f"n{day}")] = {"n": 100 + day}
            publish(warehouse, store, T0 + timedelta(days=day))
            reports.append(
                {
                    name: run_sync(settings, destination=name, configs=configs, environ=environ)
                    for name in ("klaviyo", "omnisend")
                }
            )
        holders = OMNISEND.holders(omnisend, "vip")
        events = OMNISEND.events(omnisend)
        assert ledger_keys(warehouse, "klaviyo", "vip") == set()
        assert ledger_keys(warehouse, "omnisend", "vip") == store.email_members("vip")
    assert holders == store.email_members("vip")
    assert sorted(e.change for e in events) == ["entered", "entered", "exited", "exited"]
    for day in reports:
        assert day["klaviyo"].status == "failed" and day["klaviyo"].failed
        assert day["omnisend"].status == "synced"
    assert klaviyo.state.list_members("List vip") == set()
