"""The Omnisend destination without sockets: what is sent, in which order, and how answers (and
missing answers) become acknowledgements."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime
from typing import Any

import httpx
import pytest

from activations.destinations.batching import JobPolling
from activations.destinations.omnisend import (
    OmnisendConfigError,
    OmnisendDestination,
    event_uuid,
)
from activations.http import HttpClient, RetryPolicy
from activations.rows import Event, Member, PlanRow, SegmentWork
from tests.support.sink import Sink, send

T = datetime(2026, 6, 30, 12)


def member(i: int) -> Member:
    return Member(f"m{i}@example.com", f"p{i}", f"h{i}", f"m{i}@example.com", None, {"n": i})


def event(i: int, change: str = "entered", sent_at: datetime | None = None) -> Event:
    return Event(
        f"e{i}", change, "run1", T, f"p{i}", f"m{i}@example.com", None, {}, sent_at=sent_at
    )  # type: ignore[arg-type]


def work(**parts: Any) -> SegmentWork:
    fields: dict[str, Any] = {"adds": [], "updates": [], "removes": [], "events": []}
    fields.update(parts)
    key = fields.pop("key", "email")
    return SegmentWork(segment="vip", options={"tag": "vip", "events": True}, key=key, **fields)


class FakeOmnisend:
    """Batches finish at once; `item_status` decides each contact item's answer."""

    def __init__(self, item_status: Callable[[dict[str, Any]], int] = lambda item: 200) -> None:
        self.calls: list[tuple[str, str, Any]] = []
        self.requests: list[tuple[str, httpx.URL, Any]] = []
        self.batches: dict[str, dict[str, Any]] = {}
        self.item_status = item_status

    def __call__(self, request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content) if request.content else None
        path = request.url.path
        self.calls.append((request.method, path, body))
        self.requests.append((request.method, request.url, body))
        if request.method == "POST" and path == "/batches":
            batch_id = f"b{len(self.batches)}"
            self.batches[batch_id] = body
            return httpx.Response(201, json={"batchID": batch_id, "totalCount": len(body["items"])})
        if path.startswith("/batches/") and path.endswith("/items"):
            batch = self.batches[path.split("/")[2]]
            responses = []
            for item in batch["items"]:
                code = 202 if batch["endpoint"] == "events" else self.item_status(item)
                response = {"title": "Bad Request", "detail": "quotes x@y"} if code >= 400 else {}
                responses.append({"request": item, "responseCode": code, "response": response})
            return httpx.Response(200, json={"status": "finished", "responses": responses})
        if path == "/batches" and request.method == "GET":
            listed = [{"batchID": b, "createdAt": "2026-12-03T00:00:00Z"} for b in self.batches]
            return httpx.Response(200, json={"batches": listed[::-1], "paging": {}})
        if path == "/contacts/tags":
            return httpx.Response(202)
        return httpx.Response(404, json={"title": "Not Found", "status": 404})

    def posted(self, endpoint: str) -> list[dict[str, Any]]:
        return [
            item
            for method, path, body in self.calls
            if method == "POST" and path == "/batches" and body["endpoint"] == endpoint
            for item in body["items"]
        ]


def destination(fake: FakeOmnisend) -> OmnisendDestination:
    client = HttpClient(
        "http://omnisend.test",
        transport=httpx.MockTransport(fake),
        retry=RetryPolicy(max_attempts=2, base=0.0),
        time_scale=1.0,
        sleep=lambda _: None,
    )
    return OmnisendDestination(client, polling=JobPolling(first_look=0.0, sleep=lambda _: None))


def test_upserts_send_no_consent_and_no_welcome_and_only_confirmed_contacts_are_tagged() -> None:
    fake = FakeOmnisend(
        lambda item: 400 if item["identifiers"][0]["id"] == "m1@example.com" else 200
    )
    sink = Sink()
    send(destination(fake), work(adds=[member(0), member(1), member(2)]), sink)
    for item in fake.posted("contacts"):
        (identifier,) = item["identifiers"]
        assert identifier["sendWelcomeMessage"] is False and "channels" not in identifier
    (tag_call,) = [c for c in fake.calls if c[1] == "/contacts/tags"]
    assert tag_call[0] == "POST" and tag_call[2] == {
        "tags": ["vip"],
        "emails": ["m0@example.com", "m2@example.com"],
    }
    outcomes = {a.destination_key: (a.ok, a.retryable, a.reason) for a in sink.rows_}
    assert outcomes["m1@example.com"] == (False, False, "omnisend 400 Bad Request")
    assert outcomes["m0@example.com"][0] and outcomes["m2@example.com"][0]


def test_tag_calls_carry_250_contacts_and_start_while_batches_are_still_being_sent() -> None:
    # 6,000 adds, one refused: 60 upsert batches; tags are the 60-a-minute budget, so each call
    # fills up to 250 confirmed contacts from several batches, and the first goes out long
    # before the last batch (batches are read back IN_FLIGHT behind).
    fake = FakeOmnisend(
        lambda item: 400 if item["identifiers"][0]["id"] == "m7@example.com" else 200
    )
    sink = Sink()
    send(destination(fake), work(adds=[member(i) for i in range(6_000)]), sink)
    tag_calls = [i for i, c in enumerate(fake.calls) if c[1] == "/contacts/tags"]
    sizes = [len(fake.calls[i][2]["emails"]) for i in tag_calls]
    assert sizes == [250] * 23 + [249]
    tagged = [email for i in tag_calls for email in fake.calls[i][2]["emails"]]
    assert len(set(tagged)) == 5_999 and "m7@example.com" not in tagged
    submits = [i for i, c in enumerate(fake.calls) if c[:2] == ("POST", "/batches")]
    assert len(submits) == 60 and tag_calls[0] < submits[30]
    acked = {a.destination_key for a in sink.rows_ if a.ok}
    assert acked == set(tagged)


def test_exits_go_before_entries() -> None:
    fake = FakeOmnisend()
    leaver = PlanRow("m9@example.com", "p9", "h9")
    send(
        destination(fake),
        work(adds=[member(0)], removes=[leaver], events=[event(0), event(9, "exited")]),
        Sink(),
    )
    order = [
        "exit event"
        if body
        and body.get("endpoint") == "events"
        and body["items"][0]["eventName"] == "exited segment"
        else f"{method} {path}"
        for method, path, body in fake.calls
        if method in ("POST", "DELETE")
    ]
    assert order == [
        "exit event",
        "DELETE /contacts/tags",
        "POST /batches",  # the contact upsert
        "POST /contacts/tags",
        "POST /batches",  # the enter event
    ]


def test_an_event_left_in_doubt_is_looked_for_and_never_sent_twice() -> None:
    fake = FakeOmnisend()
    first = destination(fake)
    send(first, work(events=[event(1)]), Sink())
    assert len(fake.posted("events")) == 1
    # The next sync is told event 1 was sent without a recorded answer, and event 2 too,
    # which never reached Omnisend.
    sink = Sink()
    send(destination(fake), work(events=[event(1, sent_at=T), event(2, sent_at=T)]), sink)
    ids = [item["eventID"] for item in fake.posted("events")]
    assert ids == [event_uuid("e1"), event_uuid("e2")]
    assert {(a.event_id, a.ok) for a in sink.events_} == {("e1", True), ("e2", True)}
    assert sink.events_sent == ["e2"], "only the event Omnisend does not hold goes out again"
    (listing,) = [
        url for method, url, _ in fake.requests if method == "GET" and url.path == "/batches"
    ]
    # Only batches from the day the first in-doubt event was sent (less the clock margin) on.
    assert listing.params["dateFrom"] == "2026-06-30" and listing.params["endpoint"] == "events"


def test_a_lost_answer_to_an_event_batch_is_not_resent() -> None:
    fake = FakeOmnisend()

    def lossy(request: httpx.Request) -> httpx.Response:
        response = fake(request)
        if request.method == "POST" and request.url.path == "/batches":
            raise httpx.ReadTimeout("answer lost", request=request)
        return response

    client = HttpClient(
        "http://omnisend.test",
        transport=httpx.MockTransport(lossy),
        retry=RetryPolicy(max_attempts=5, base=0.0),
        time_scale=1.0,
        sleep=lambda _: None,
    )
    sink = Sink()
    send(OmnisendDestination(client), work(events=[event(1)]), sink)
    assert len(fake.posted("events")) == 1, "a batch that may exist is never sent again"
    assert sink.events_sent == ["e1"]
    ((event_id, ok, retryable),) = [(a.event_id, a.ok, a.retryable) for a in sink.events_]
    assert (event_id, ok, retryable) == ("e1", False, True)


def test_two_segments_cannot_share_a_tag_and_person_id_is_no_omnisend_key() -> None:
    target = destination(FakeOmnisend())
    with pytest.raises(OmnisendConfigError, match="vip and winback both sync to the Omnisend tag"):
        target.check_options({"vip": {"tag": "VIP"}, "winback": {"tag": " VIP "}})
    target.check_options({"vip": {"tag": "VIP"}, "winback": {"tag": "Winback"}})
    with pytest.raises(OmnisendConfigError, match="by email or phone"):
        send(target, work(adds=[member(0)], key="person_id"), Sink())
