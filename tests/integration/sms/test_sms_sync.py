"""SMS syncs against the Twilio sandbox over loopback: who is texted, when, and never twice.

The sandbox's log of accepted messages (`state.outbound`) is the judge: a message in it went out.
Recipients are placed in zones chosen from the clock at test time (midday there, or the middle of
the night), so the quiet-hours outcome does not depend on when the suite runs.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from activations.reports import SyncReport
from activations.runner import DestinationFailed, run_sync
from activations.sandbox import Faults
from activations.sandbox.twilio import TwilioSandbox
from activations.settings import Settings
from activations.warehouse import Warehouse, connect
from tests.support.activation import Store, empty_models, publish
from tests.support.sms import outbox_rows, recipient, sms_configs, texted, twilio_sandbox, zone_at

pytestmark = pytest.mark.integration

T0 = datetime(2026, 6, 1, 9)


@pytest.fixture
def twilio(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[TwilioSandbox, dict[str, str]]]:
    with twilio_sandbox() as (sandbox, environ):
        # The HTTP client reads the time scale from the process: paced at 1000x, not 1 text/s.
        monkeypatch.setenv("COHORTFLOW_TIME_SCALE", environ["COHORTFLOW_TIME_SCALE"])
        yield sandbox, environ


def sync(warehouse: Warehouse, environ: dict[str, str], **sms: Any) -> SyncReport:
    segments = sms.pop("segments", ("winback",))
    return run_sync(
        Settings(warehouse=warehouse),
        destination="sms",
        configs=sms_configs(segments, **sms),
        environ=environ,
    )


def outbox(warehouse: Warehouse) -> dict[str, tuple[str, str | None]]:
    """person id -> (status, reason code) of their outbox row."""
    return {person_id: (status, code) for person_id, status, code in outbox_rows(warehouse)}


def test_members_at_switch_on_get_no_text_and_each_newcomer_gets_one(
    duckdb_url: str, twilio: tuple[TwilioSandbox, dict[str, str]]
) -> None:
    sandbox, environ = twilio
    store = Store()
    midday = zone_at(12)
    for i in range(3):
        recipient(store, i, zone=midday)
        store.members[("winback", f"p{i}")] = {"first_name": f"P{i}"}
    with empty_models(duckdb_url) as warehouse:
        publish(warehouse, store, T0)
        first = sync(warehouse, environ)
        assert texted(sandbox) == Counter(), "the baseline texts nobody"
        assert [s.status for s in first.segments] == ["synced"]

        newcomer = recipient(store, 9, zone=midday)
        store.members[("winback", "p9")] = {"first_name": "Nina"}
        publish(warehouse, store, T0 + timedelta(days=1))
        second = sync(warehouse, environ)
        third = sync(warehouse, environ)
        rows = outbox(warehouse)
    assert texted(sandbox) == Counter({newcomer: 1})
    (message,) = sandbox.state.outbound
    assert message.params["Body"] == (
        "Hi Nina, we miss you! Take 15% off your next order with code COMEBACK. "
        "Reply STOP to opt out."
    ), "rendered from the traits, the template's trailing newline dropped"
    assert rows == {"p9": ("delivered", None)}, "the next sync read the delivery back"
    assert (second.segments[0].events, third.segments[0].events) == (1, 0)
    assert third.outbox == {"delivered": 1}, "the report counts the outbox by state"


def test_the_dagster_metadata_counts_the_outbox_by_state() -> None:
    from orchestration.activation import sync_metadata

    report = SyncReport(destination="sms", run_id="r1", outbox={"sent": 3, "deferred": 2})
    metadata = sync_metadata(report)
    assert (metadata["outbox/sent"].value, metadata["outbox/deferred"].value) == (3, 2)
    assert "outbox/next_deferred_at" not in metadata
    report.next_deferred_at = datetime(2026, 6, 2, 15, 0)
    stamp = sync_metadata(report)["outbox/next_deferred_at"].value
    assert datetime.fromtimestamp(stamp, UTC) == datetime(2026, 6, 2, 15, 0, tzinfo=UTC)


def test_the_rules_hold_back_texts_with_a_reason(
    duckdb_url: str, twilio: tuple[TwilioSandbox, dict[str, str]]
) -> None:
    sandbox, environ = twilio
    store = Store()
    midday, night = zone_at(12), zone_at(3)
    with empty_models(duckdb_url) as warehouse:
        publish(warehouse, store, T0)
        sync(warehouse, environ)  # the baseline
        people = {
            "p1": recipient(store, 1, zone=midday),
            "p2": recipient(store, 2, zone=midday, consent=None),
            "p3": recipient(store, 3, zone=midday, consent="unsubscribed"),
            "p4": recipient(store, 4, zone=night),
            "p5": recipient(store, 5, zone=midday),
        }
        sandbox.state.inbound(people["p5"], "STOP")
        for person_id in people:
            store.members[("winback", person_id)] = {"first_name": person_id}
        publish(warehouse, store, T0 + timedelta(days=1))
        report = sync(warehouse, environ)
        rows = outbox(warehouse)
        again = sync(warehouse, environ)
    assert texted(sandbox) == Counter({people["p1"]: 1})
    assert rows == {
        "p1": ("delivered", None),
        "p2": ("suppressed", "no_consent"),
        "p3": ("suppressed", "unsubscribed"),
        "p4": ("deferred", "quiet_hours"),
        "p5": ("suppressed", "opted_out"),
    }
    (segment,) = report.segments
    assert (segment.events, segment.skipped_events) == (1, 3)
    assert "1 deferred" in (segment.message or "")
    assert again.segments[0].events == 0, "a suppressed phone is not tried again"
    # What the Dagster sensor waits for: when p4's window opens, 08:00 where p4 is.
    assert report.next_deferred_at is not None
    opens = report.next_deferred_at.replace(tzinfo=UTC).astimezone(ZoneInfo(night))
    assert (opens.hour, opens.minute) == (8, 0)


def test_the_frequency_cap_counts_texts_from_every_segment(
    duckdb_url: str, twilio: tuple[TwilioSandbox, dict[str, str]]
) -> None:
    sandbox, environ = twilio
    store = Store()
    with empty_models(duckdb_url) as warehouse:
        publish(warehouse, store, T0)
        sync(warehouse, environ, segments=("vip", "winback"))
        phone = recipient(store, 1, zone=zone_at(12))
        store.members[("vip", "p1")] = {"first_name": "Ann"}
        store.members[("winback", "p1")] = {"first_name": "Ann"}
        publish(warehouse, store, T0 + timedelta(days=1))
        sync(warehouse, environ, segments=("vip", "winback"))
        statuses = sorted((status, code) for _, status, code in outbox_rows(warehouse))
    assert texted(sandbox) == Counter({phone: 1}), "at most 1 text per person per 24 h"
    # The cap frees the person 24 h after the first text, after the second's send window.
    assert statuses == [("delivered", None), ("expired", "send_window_passed")]


@pytest.mark.parametrize(
    ("fault", "settled"),
    [("drop_after", "delivered"), ("drop_before", "unknown"), ("500", "unknown")],
)
def test_a_send_without_an_answer_is_looked_up_and_never_sent_twice(
    duckdb_url: str, twilio: tuple[TwilioSandbox, dict[str, str]], fault: str, settled: str
) -> None:
    sandbox, environ = twilio
    store = Store()
    with empty_models(duckdb_url) as warehouse:
        publish(warehouse, store, T0)
        sync(warehouse, environ)
        phone = recipient(store, 1, zone=zone_at(12))
        store.members[("winback", "p1")] = {"first_name": "Ann"}
        publish(warehouse, store, T0 + timedelta(days=1))
        # Only the send fails: the sync's reads of the message list (STOP replies) still work.
        sandbox.app.applies_to = lambda scope: scope["method"] == "POST"
        sandbox.set_faults(Faults(rate=1.0, kinds=(fault,)))  # type: ignore[arg-type]
        doubtful = sync(warehouse, environ)
        sandbox.set_faults(Faults())
        assert outbox(warehouse)["p1"][0] == "sending"
        assert "1 in doubt" in (doubtful.segments[0].message or "")
        sync(warehouse, environ)
        sync(warehouse, environ)
        status = outbox(warehouse)["p1"][0]
    accepted = texted(sandbox)[phone]
    assert accepted == (1 if fault == "drop_after" else 0), "never sent twice, never re-sent blind"
    assert status == settled


def test_a_missing_template_stops_the_sms_sync_before_anything_is_sent(
    duckdb_url: str, twilio: tuple[TwilioSandbox, dict[str, str]]
) -> None:
    _, environ = twilio
    with empty_models(duckdb_url) as warehouse:
        publish(warehouse, Store(), T0)
        with pytest.raises(DestinationFailed, match="no_such_template"):
            sync(warehouse, environ, on_enter="no_such_template")


def test_the_outbox_command_shows_each_text_with_its_state_and_reason(
    duckdb_url: str, twilio: tuple[TwilioSandbox, dict[str, str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    import json

    from typer.testing import CliRunner

    from activations.cli.app import app

    _, environ = twilio
    store = Store()
    with empty_models(duckdb_url) as warehouse:
        publish(warehouse, store, T0)
        sync(warehouse, environ)
        recipient(store, 1, zone=zone_at(12))
        recipient(store, 2, zone=zone_at(3))
        recipient(store, 3, zone=zone_at(12), consent=None)
        for person_id in ("p1", "p2", "p3"):
            store.members[("winback", person_id)] = {"first_name": person_id}
        publish(warehouse, store, T0 + timedelta(days=1))
        sync(warehouse, environ)
    monkeypatch.setenv("COHORTFLOW_WAREHOUSE", duckdb_url)
    table = CliRunner().invoke(app, ["sms", "outbox"])
    every = CliRunner().invoke(app, ["sms", "outbox", "--json"])
    deferred = CliRunner().invoke(app, ["sms", "outbox", "--status", "deferred", "--json"])
    wrong = CliRunner().invoke(app, ["sms", "outbox", "--status", "lost"])
    assert table.exit_code == 0, table.output
    assert "outbox: 1 deferred, 1 delivered, 1 suppressed" in table.output
    listed = {m["person_id"]: m for m in json.loads(every.output)["messages"]}
    assert {p: (m["status"], m["reason"]) for p, m in listed.items() if p != "p2"} == {
        "p1": ("delivered", None),
        "p3": ("suppressed", "no SMS consent"),
    }
    assert listed["p1"]["phone"] == "+141***01" and listed["p1"]["twilio_sid"].startswith("SM")
    assert "+1415555" not in every.output, "phones are masked"
    (waiting,) = json.loads(deferred.output)["messages"]
    assert waiting["person_id"] == "p2" and waiting["send_after"] is not None
    assert wrong.exit_code == 2 and "states are planned" in wrong.output


def test_the_preview_renders_each_text_and_counts_who_would_not_get_it(duckdb_url: str) -> None:
    from activations.destinations.sms import SmsOptions
    from activations.sms.preview import preview
    from activations.sms.templates import SmsTemplate
    from activations.warehouse import connect

    store = Store()
    recipient(store, 1, zone=zone_at(12))
    recipient(store, 2, zone=zone_at(3))
    recipient(store, 3, zone=zone_at(12), consent="unsubscribed")
    for i, name in ((1, "Ann"), (2, "Bo"), (3, "Cy")):
        store.members[("winback", f"p{i}")] = {"first_name": name}
    template = SmsTemplate("winback.txt", "Hi {{ first_name }} \N{WAVING HAND SIGN}")
    with empty_models(duckdb_url) as warehouse:
        publish(warehouse, store, T0)
        with connect(warehouse) as connection:
            shown, tally = preview(
                connection,
                state_schema="cohortflow_state",
                segment="winback",
                template=template,
                rules=SmsOptions(on_enter="winback").rules(),
                now=datetime.now(UTC).replace(tzinfo=None),
                limit=2,
            )
        assert outbox_rows(warehouse) == [], "a preview writes nothing"
    assert [(p.person_id, p.body, p.outcome) for p in shown] == [
        ("p1", "Hi Ann \N{WAVING HAND SIGN}", "send now"),
        ("p2", "Hi Bo \N{WAVING HAND SIGN}", "deferred"),
    ]
    assert shown[0].length is not None and shown[0].length.encoding == "UCS-2"
    assert tally == Counter({"send now": 1, "deferred: quiet_hours": 1, "skipped: unsubscribed": 1})


def test_a_stop_reply_suppresses_the_phone_before_its_next_text_is_tried(
    duckdb_url: str, twilio: tuple[TwilioSandbox, dict[str, str]]
) -> None:
    sandbox, environ = twilio
    store = Store()
    with empty_models(duckdb_url) as warehouse:
        publish(warehouse, store, T0)
        sync(warehouse, environ, segments=("vip", "winback"))
        phone = recipient(store, 1, zone=zone_at(12))
        store.members[("vip", "p1")] = {"first_name": "Ann"}
        publish(warehouse, store, T0 + timedelta(days=1))
        sync(warehouse, environ, segments=("vip", "winback"))
        sandbox.state.inbound(phone, "Stop texting me")
        store.members[("winback", "p1")] = {"first_name": "Ann"}
        publish(warehouse, store, T0 + timedelta(days=2))
        sync(warehouse, environ, segments=("vip", "winback"))
        sync(warehouse, environ, segments=("vip", "winback"))
        rows = outbox_rows(warehouse)
        with connect(warehouse) as connection:
            stops = connection.execute(
                sa.text("select phone, source from cohortflow_state.sms_suppressions")
            ).all()
    assert texted(sandbox) == Counter({phone: 1})
    assert sorted((status, code) for _, status, code in rows) == [
        ("delivered", None),
        ("suppressed", "opted_out"),
    ]
    assert [tuple(row) for row in stops] == [(phone, "STOP")], "recorded once, read twice"
    assert 21610 not in sandbox.state.errors, "the opted-out phone was not even tried"
