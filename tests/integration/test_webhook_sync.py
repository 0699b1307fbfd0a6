"""The webhook destination against the local receiver over loopback: what a partner receives is
the segment (the whole audience first, then changes, exits first), every delivery verifies, a
lost answer is re-sent as the same batch, a refusal is retried, and no secret reaches a log."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import Any

import pytest

from activations.reports import SyncReport
from activations.runner import DestinationFailed, run_sync
from activations.sandbox import Faults, SandboxServer
from activations.sandbox.webhook import WebhookSandbox
from activations.segment_config import SegmentConfig, parse_segment_config
from activations.settings import Settings
from activations.warehouse import Warehouse
from tests.support.activation import Person, Store, empty_models, publish

pytestmark = pytest.mark.integration

T0 = datetime(2026, 6, 1, 9)
SECRET = "whsec-contract-0123456789abcdef"
# A receiver's token in its URL path, percent-encoded as written; the receiver (and httpx's
# logs) see it decoded: neither form may reach a log.
TOKEN = "tok%3DZq81PartnerPathToken"
HOOK_TOKEN = "tok=Zq81PartnerPathToken"


@pytest.fixture(autouse=True)
def fast_retries(monkeypatch: pytest.MonkeyPatch) -> None:
    """Backoff and Retry-After in API seconds, a thousand to the wall second."""
    monkeypatch.setenv("COHORTFLOW_TIME_SCALE", "1000")


@contextmanager
def receiver(faults: Faults | None = None) -> Iterator[tuple[WebhookSandbox, str]]:
    sandbox = WebhookSandbox(SECRET, faults=faults, seed=7)
    with SandboxServer(sandbox.app) as server:
        yield sandbox, server.url


def configs(*segments: str, events: bool = True) -> dict[str, SegmentConfig]:
    return {
        segment: parse_segment_config(
            segment,
            {
                "key": "email",
                "destinations": {
                    "webhook": {
                        "url_env": f"{segment.upper()}_URL",
                        "secret_env": f"{segment.upper()}_SECRET",
                        "events": events,
                        "batch_size": 7,
                        "max_exit_fraction": 1,
                    }
                },
            },
        )
        for segment in segments
    }


def environ(url: str, *segments: str, secret: str = SECRET) -> dict[str, str]:
    values = {"COHORTFLOW_HTTP_TIMEOUT": "2"}
    for segment in segments:
        values[f"{segment.upper()}_URL"] = f"{url}/hooks/{segment}-{TOKEN}"
        values[f"{segment.upper()}_SECRET"] = secret
    return values


def sync(warehouse: Warehouse, env: dict[str, str], *segments: str) -> SyncReport:
    try:
        return run_sync(
            Settings(warehouse=warehouse),
            destination="webhook",
            configs=configs(*segments),
            environ=env,
        )
    except DestinationFailed as failed:  # reported, as `cohortflow sync` would print it
        return failed.report


def audience(sandbox: WebhookSandbox, segment: str) -> dict[str, dict[str, Any]]:
    """What a receiver applying each accepted membership batch in order holds: key -> traits."""
    held: dict[str, dict[str, Any]] = {}
    for record in sandbox.state.records(hook=f"{segment}-{HOOK_TOKEN}", type="membership"):
        if record["operation"] == "remove":
            held.pop(record["key"], None)
        else:
            held[record["key"]] = record["traits"]
    return held


def expected(store: Store, segment: str) -> dict[str, dict[str, Any]]:
    return {
        str(store.people[person].email): traits
        for (seg, person), traits in store.members.items()
        if seg == segment
    }


def people(store: Store, segment: str, ids: range) -> None:
    for i in ids:
        store.people[f"p{i}"] = Person(f"p{i}", f"p{i}@example.com")
        store.members[(segment, f"p{i}")] = {"n": i}


def test_the_first_sync_sends_the_audience_then_only_changes_exits_first(
    duckdb_url: str,
) -> None:
    store = Store()
    people(store, "vip", range(10))
    with receiver() as (sandbox, url), empty_models(duckdb_url) as warehouse:
        env = environ(url, "vip")
        publish(warehouse, store, T0)
        first = sync(warehouse, env, "vip")
        assert first.status == "synced" and first.segments[0].added == 10
        assert audience(sandbox, "vip") == expected(store, "vip")
        assert sandbox.state.records(type="events") == [], "the first sync is the baseline"
        assert len(sandbox.state.deliveries) == 2, "10 adds in batches of 7"

        del store.members[("vip", "p0")]
        people(store, "vip", range(10, 11))
        store.members[("vip", "p1")] = {"n": 1, "tier": "gold"}
        publish(warehouse, store, T0 + timedelta(days=1))
        before = len(sandbox.state.deliveries)
        second = sync(warehouse, env, "vip")
        assert (second.segments[0].added, second.segments[0].removed) == (1, 1)
        assert second.segments[0].updated == 1 and second.segments[0].events == 2
        assert audience(sandbox, "vip") == expected(store, "vip")
        sent = sandbox.state.deliveries[before:]
        order = [
            (
                d.payload["type"],
                sorted({r.get("operation") or r["change"] for r in d.payload["records"]}),
            )
            for d in sent
        ]
        assert order == [
            ("membership", ["remove"]),
            ("events", ["exited"]),
            ("membership", ["add", "update"]),
            ("events", ["entered"]),
        ]
        entered = sandbox.state.records(type="events")[-1]
        assert (entered["key"], entered["change"], entered["traits"]) == (
            "p10@example.com",
            "entered",
            {"n": 10},
        )

        calls = len(sandbox.state.deliveries)
        assert sync(warehouse, env, "vip").segments[0].status == "up to date"
        assert len(sandbox.state.deliveries) == calls, "nothing changed, nothing posted"
        assert sum(sandbox.state.rejected.values()) == 0, "every delivery verified"


def test_a_person_who_leaves_and_comes_back_unchanged_is_a_new_change_not_a_duplicate(
    duckdb_url: str,
) -> None:
    store = Store()
    people(store, "vip", range(1))
    with receiver() as (sandbox, url), empty_models(duckdb_url) as warehouse:
        env = environ(url, "vip")
        for day, present in enumerate([True, False, True, False, True]):
            if present:
                store.members[("vip", "p0")] = {"n": 0}
            else:
                store.members.pop(("vip", "p0"), None)
            publish(warehouse, store, T0 + timedelta(days=day))
            assert sync(warehouse, env, "vip").status == "synced"
            assert audience(sandbox, "vip") == expected(store, "vip"), f"day {day}"
        summary = sandbox.state.summary()
        assert summary["duplicates"] == 0 and summary["repeated_records"] == 0
        assert [e["change"] for e in sandbox.state.records(type="events")] == [
            "exited",
            "entered",
            "exited",
            "entered",
        ]


def test_answers_lost_after_the_receiver_stored_a_batch_come_back_as_the_same_batch(
    duckdb_url: str,
) -> None:
    store = Store()
    people(store, "vip", range(12))
    every_answer_lost = Faults(rate=1.0, kinds=("drop_after",))
    with receiver(every_answer_lost) as (sandbox, url), empty_models(duckdb_url) as warehouse:
        env = environ(url, "vip")
        publish(warehouse, store, T0)
        lost = sync(warehouse, env, "vip")
        assert lost.segments[0].status == "failed" and lost.segments[0].added == 0
        assert "receiver unavailable" in str(lost.segments[0].message)
        stored = sandbox.state.batches()
        assert len(stored) == 1, "the segment stops at the first batch nobody answered"

        sandbox.set_faults(Faults())
        settled = sync(warehouse, env, "vip")
        assert settled.status == "synced" and settled.segments[0].added == 12
        assert audience(sandbox, "vip") == expected(store, "vip")
        summary = sandbox.state.summary()
        assert summary["duplicates"] >= 1, "the lost batch was sent again"
        assert summary["conflicts"] == 0, "a re-sent batch id always carries the same records"
        assert summary["repeated_records"] == 0, "no record arrived in a second, other batch"


def test_injected_faults_converge_to_the_segment_with_every_event_once(duckdb_url: str) -> None:
    store = Store()
    people(store, "vip", range(40))
    faults = Faults(rate=0.5, kinds=("429", "500", "503", "drop_before", "drop_after"))
    with receiver(faults) as (sandbox, url), empty_models(duckdb_url) as warehouse:
        env = environ(url, "vip")
        for day in range(4):
            if day:
                for i in range(day * 3):
                    store.members.pop(("vip", f"p{(day * 7 + i) % 40}"), None)
                people(store, "vip", range(40 + day * 5, 45 + day * 5))
            publish(warehouse, store, T0 + timedelta(days=day))
            for _ in range(6):
                report = sync(warehouse, env, "vip")
                if report.status == "synced" and not report.segments[0].failed:
                    break
            assert report.status == "synced", report.segments[0].message
            assert audience(sandbox, "vip") == expected(store, "vip")
        events = [r["id"] for r in sandbox.state.records(type="events")]
        assert len(events) == len(set(events)) > 0, "deduplicated by batch id, each event once"
        summary = sandbox.state.summary()
        assert summary["faults"] and summary["conflicts"] == summary["repeated_records"] == 0


def test_a_refused_signature_fails_that_segment_and_the_others_still_go(
    duckdb_url: str,
) -> None:
    store = Store()
    people(store, "vip", range(3))
    people(store, "lapsed", range(3, 6))
    with receiver() as (sandbox, url), empty_models(duckdb_url) as warehouse:
        env = environ(url, "vip") | environ(url, "lapsed", secret="not-the-partners-secret")
        publish(warehouse, store, T0)
        report = sync(warehouse, env, "vip", "lapsed")
        by_segment = {s.segment: s for s in report.segments}
        assert by_segment["vip"].status == "synced" and by_segment["vip"].added == 3
        assert by_segment["lapsed"].status == "failed"
        assert "refused the signature (401)" in str(by_segment["lapsed"].message)
        assert sandbox.state.rejected["mismatch"] >= 1
        assert audience(sandbox, "lapsed") == {}

        fixed = sync(warehouse, environ(url, "vip", "lapsed"), "vip", "lapsed")
        assert fixed.status == "synced"
        assert audience(sandbox, "lapsed") == expected(store, "lapsed")


class Refusing:
    """ASGI middleware answering the first `count` hook posts 422, as a receiver with a bug
    would, before letting them through."""

    def __init__(self, app: Any, count: int) -> None:
        self.app, self.left = app, count

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "http" and scope["path"].startswith("/hooks/") and self.left > 0:
            self.left -= 1
            await send({"type": "http.response.start", "status": 422, "headers": []})
            await send({"type": "http.response.body", "body": b""})
            return
        await self.app(scope, receive, send)


def test_rows_a_receiver_refused_are_counted_and_sent_again_by_the_next_sync(
    duckdb_url: str,
) -> None:
    store = Store()
    people(store, "vip", range(10))
    sandbox = WebhookSandbox(SECRET)
    with SandboxServer(Refusing(sandbox.app, count=1)) as server:
        with empty_models(duckdb_url) as warehouse:
            env = environ(server.url, "vip")
            publish(warehouse, store, T0)
            first = sync(warehouse, env, "vip")
            segment = first.segments[0]
            assert (segment.added, segment.failed, segment.status) == (3, 7, "failed")
            assert segment.reasons["receiver answered 422"] == 7
            assert sync(warehouse, env, "vip").segments[0].added == 7
            assert audience(sandbox, "vip") == expected(store, "vip")


def test_the_secret_and_the_url_token_never_reach_logs_or_reports(
    duckdb_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    store = Store()
    people(store, "vip", range(3))
    caplog.set_level(logging.DEBUG)
    with receiver(Faults(rate=0.5, kinds=("503",))) as (sandbox, url):
        with empty_models(duckdb_url) as warehouse:
            publish(warehouse, store, T0)
            report = sync(warehouse, environ(url, "vip"), "vip")
            people(store, "vip", range(3, 4))
            publish(warehouse, store, T0 + timedelta(days=1))
            wrong = sync(warehouse, environ(url, "vip", secret="x" * 20), "vip")
    assert report.status == "synced" and sandbox.state.summary()["faults"]
    assert "refused the signature" in str(wrong.segments[0].message)
    texts = [caplog.text, repr(report.as_dict()), repr(wrong.as_dict())]
    assert "HTTP Request: POST" in caplog.text, "requests were logged at all"
    for text in texts:
        assert SECRET not in text and TOKEN not in text and HOOK_TOKEN not in text
