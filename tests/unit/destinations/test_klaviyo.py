"""The Klaviyo destination without sockets: payloads, chunking and how answers become acks."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import httpx
import pytest

from activations.destinations.batching import JobPolling
from activations.destinations.klaviyo import (
    MAX_JOB_PROFILES,
    KlaviyoConfigError,
    KlaviyoDestination,
    KlaviyoSettings,
    _job_chunks,
    _profile,
    _profiles_body,
)
from activations.destinations.options import DestinationOptionsError
from activations.http import HttpClient, RetryPolicy
from activations.rows import (
    ConsentWork,
    Event,
    Member,
    PlanRow,
    SegmentWork,
)
from tests.support.sink import Sink, send


def member(i: int, **traits: Any) -> Member:
    return Member(f"m{i}@example.com", f"p{i}", f"h{i}", f"m{i}@example.com", None, traits)


def work(**parts: Any) -> SegmentWork:
    fields: dict[str, Any] = {"adds": [], "updates": [], "removes": [], "events": []}
    fields.update(parts)
    return SegmentWork(
        segment="vip", options={"list": "VIPs", "events": True}, key="email", **fields
    )


def destination(handler: Callable[[httpx.Request], httpx.Response]) -> KlaviyoDestination:
    client = HttpClient(
        "http://klaviyo.test",
        transport=httpx.MockTransport(handler),
        retry=RetryPolicy(max_attempts=2, base=0.0),
        time_scale=1.0,
        sleep=lambda _: None,
    )
    return KlaviyoDestination(client, polling=JobPolling(first_look=0.0, sleep=lambda _: None))


def jsonapi(status: int, body: Any) -> httpx.Response:
    return httpx.Response(status, json=body, headers={"Content-Type": "application/vnd.api+json"})


def lists_with(list_id: str) -> dict[str, Any]:
    return {"data": [{"type": "list", "id": list_id, "attributes": {"name": "VIPs"}}], "links": {}}


def job(status: str, total: int, failed: int = 0) -> dict[str, Any]:
    attributes = {"status": status, "total_count": total, "failed_count": failed}
    return {"data": {"type": "profile-bulk-import-job", "id": "job1", "attributes": attributes}}


def test_profile_is_identified_by_the_key_alone_with_traits_as_properties() -> None:
    with_phone = Member("a@x.com", "p1", "h", "a@x.com", "+15551230000", {"tier": "gold"})
    assert _profile(with_phone, "email") == {
        "type": "profile",
        "attributes": {"email": "a@x.com", "properties": {"tier": "gold"}},
    }
    by_person = Member("p1", "p1", "h", "a@x.com", None, {})
    assert _profile(by_person, "person_id")["attributes"] == {"external_id": "p1", "properties": {}}


def test_jobs_stay_within_the_profile_count_and_payload_size() -> None:
    small = [member(i) for i in range(MAX_JOB_PROFILES + 5)]
    assert [len(chunk) for chunk in _job_chunks(small, "email")] == [MAX_JOB_PROFILES, 5]
    big = [member(i, notes="x" * 60_000) for i in range(200)]
    chunks = list(_job_chunks(big, "email"))
    assert sum(len(chunk) for chunk in chunks) == 200
    for chunk in chunks:
        body = _profiles_body([encoded for _, encoded in chunk], "L1")
        assert len(body) < 5_000_000
        assert [
            p["attributes"]["email"]
            for p in json.loads(body)["data"]["attributes"]["profiles"]["data"]
        ] == [m.email for m, _ in chunk]


def test_an_empty_plan_makes_no_http_call() -> None:
    calls: list[httpx.Request] = []
    target = destination(lambda request: calls.append(request) or jsonapi(500, {}))
    send(target, work(), Sink())
    target.sync_consents(ConsentWork(channel="email", subscribe=[], unsubscribe=[]), Sink())
    assert calls == []


def test_only_rows_the_job_did_not_reject_are_acknowledged() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        path = request.url.path
        if path == "/api/lists":
            return jsonapi(200, lists_with("L1"))
        if path == "/api/profile-bulk-import-jobs":
            sent = json.loads(request.content)["data"]
            assert sent["relationships"]["lists"]["data"] == [{"type": "list", "id": "L1"}]
            return jsonapi(202, job("queued", 3))
        if path == "/api/profile-bulk-import-jobs/job1":
            return jsonapi(200, job("complete", 3, failed=1))
        if path.endswith("/import-errors"):
            error = {
                "type": "import-error",
                "id": "e1",
                "attributes": {
                    "code": "invalid",
                    "title": "Invalid input",
                    "detail": "m1@example.com is not a valid email",
                    "source": {"pointer": "/data/1"},
                    "original_payload": {"email": "m1@example.com"},
                },
            }
            return jsonapi(200, {"data": [error], "links": {}})
        raise AssertionError(f"unexpected {request.method} {path}")

    sink = Sink()
    send(destination(handler), work(adds=[member(0), member(1)], updates=[member(2)]), sink)
    outcome = {ack.destination_key: (ack.ok, ack.operation, ack.retryable) for ack in sink.rows_}
    assert outcome == {
        "m0@example.com": (True, "add", False),
        "m1@example.com": (False, "add", False),
        "m2@example.com": (True, "update", False),
    }
    reason = next(ack.reason for ack in sink.rows_ if not ack.ok)
    assert reason == "klaviyo import error invalid: Invalid input"


def test_a_job_failing_rows_it_does_not_name_acknowledges_none_of_them() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/api/lists":
            return jsonapi(200, lists_with("L1"))
        if request.url.path == "/api/profile-bulk-import-jobs":
            return jsonapi(202, job("complete", 2, failed=1))
        return jsonapi(200, {"data": [], "links": {}})

    sink = Sink()
    send(destination(handler), work(adds=[member(0), member(1)]), sink)
    assert [(a.ok, a.retryable) for a in sink.rows_] == [(False, True), (False, True)]


@dataclass
class FakeClock:
    """API time that passes only when the destination sleeps or a request is answered."""

    now: float = 0.0
    slept: list[float] = field(default_factory=list)

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def polling_destination(
    clock: FakeClock, finished_after: int, request_seconds: float
) -> tuple[KlaviyoDestination, list[str]]:
    """A destination whose import jobs report `complete` from their `finished_after`-th poll;
    every answer costs `request_seconds` of the fake clock."""
    polls: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        clock.now += request_seconds
        path = request.url.path
        if path == "/api/lists":
            return jsonapi(200, lists_with("L1"))
        if path == "/api/profile-bulk-import-jobs":
            return jsonapi(202, job("queued", 1))
        polls.append(path)
        status = "complete" if len(polls) >= finished_after else "processing"
        return jsonapi(200, job(status, 1))

    target = destination(handler)
    # First look 1 s after submission, then 2 s, 4 s, ... up to 10 s.
    target.polling = JobPolling(
        first_look=1.0, deadline=30.0, sleep=clock.sleep, clock=lambda: clock.now
    )
    return target, polls


def test_a_job_is_first_looked_at_a_poll_interval_after_it_was_submitted() -> None:
    # Jobs are all submitted, then collected: by the time the first is collected, sending
    # the rest took longer than the first pause, so no job needs a pause of its own.
    clock = FakeClock()
    target, polls = polling_destination(clock, finished_after=1, request_seconds=2.0)
    members = [member(i) for i in range(MAX_JOB_PROFILES * 3)]
    sink = Sink()
    send(target, work(adds=members), sink)
    assert len(polls) == 3
    assert clock.slept == []
    assert all(ack.ok for ack in sink.rows_) and len(sink.rows_) == len(members)


def test_a_job_that_never_finishes_is_left_at_the_deadline_and_retried_next_run() -> None:
    clock = FakeClock()
    target, polls = polling_destination(clock, finished_after=10**6, request_seconds=0.0)
    sink = Sink()
    send(target, work(adds=[member(0)]), sink)
    # Pauses double from 1 s to the 10 s cap until 30 API seconds after submission.
    assert clock.slept == [1.0, 2.0, 4.0, 8.0, 10.0, 5.0]
    assert len(polls) == 6
    assert [(a.ok, a.retryable, a.reason) for a in sink.rows_] == [
        (False, True, "klaviyo import job not complete")
    ]


def test_an_unanswered_list_create_is_followed_by_a_lookup_not_a_second_create() -> None:
    creates: list[int] = []

    def handler(request: httpx.Request) -> httpx.Response:
        if request.method == "POST" and request.url.path == "/api/lists":
            creates.append(1)
            raise httpx.ReadTimeout("lost answer", request=request)
        if request.url.path == "/api/lists":
            return jsonapi(200, lists_with("L9") if creates else {"data": [], "links": {}})
        return jsonapi(202, job("complete", 1))

    sink = Sink()
    send(destination(handler), work(adds=[member(0)]), sink)
    assert len(creates) == 1
    assert [a.ok for a in sink.rows_] == [True]


def test_removes_look_up_unknown_profile_ids_and_remember_them() -> None:
    deleted: list[Any] = []

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/api/lists":
            return jsonapi(200, lists_with("L1"))
        if request.url.path == "/api/profiles":
            assert request.url.params["filter"] == 'any(email,["b@x.com", "c@x.com"])'
            found = {"type": "profile", "id": "01B", "attributes": {"email": "b@x.com"}}
            return jsonapi(200, {"data": [found], "links": {}})
        if request.method == "DELETE":
            deleted.append(json.loads(request.content)["data"])
            return httpx.Response(204)
        raise AssertionError(request.url.path)

    removes = [PlanRow(key, key, "h") for key in ("a@x.com", "b@x.com", "c@x.com")]
    sink = Sink()
    target = destination(handler)
    send(
        target,
        SegmentWork(
            segment="vip",
            options={"list": "VIPs"},
            key="email",
            adds=[],
            updates=[],
            removes=removes,
            events=[],
            profile_ids={"a@x.com": "01A"},
        ),
        sink,
    )
    assert deleted == [[{"type": "profile", "id": "01A"}, {"type": "profile", "id": "01B"}]]
    assert sink.ids == {"b@x.com": "01B"}
    assert {a.destination_key for a in sink.rows_ if a.ok} == {"a@x.com", "b@x.com", "c@x.com"}


def test_a_rejected_event_batch_is_split_until_only_the_bad_event_is_refused() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        entries = json.loads(request.content)["data"]["attributes"]["events-bulk-create"]["data"]
        emails = [e["attributes"]["profile"]["data"]["attributes"]["email"] for e in entries]
        if "bad@x.com" in emails:
            return jsonapi(400, {"errors": [{"id": "1", "code": "invalid", "title": "Invalid"}]})
        return jsonapi(202, {"data": {"type": "event-bulk-create-job", "id": "j"}})

    events = [
        Event(f"e{i}", "entered", "r1", datetime(2026, 1, 1), f"p{i}", email, None, {})
        for i, email in enumerate(["a@x.com", "bad@x.com", "c@x.com", "d@x.com", "e@x.com"])
    ]
    sink = Sink()
    send(destination(handler), work(events=events), sink)
    assert {a.event_id: a.ok for a in sink.events_} == {
        "e0": True,
        "e1": False,
        "e2": True,
        "e3": True,
        "e4": True,
    }


def test_settings_need_a_key_and_never_show_it() -> None:
    with pytest.raises(KlaviyoConfigError, match="KLAVIYO_API_KEY"):
        KlaviyoSettings.from_env({})
    settings = KlaviyoSettings.from_env({"KLAVIYO_API_KEY": "pk_secret_123"})
    assert "pk_secret_123" not in repr(settings) and "pk_secret_123" not in str(settings)
    with settings.client() as client:
        assert "pk_secret_123" not in repr(client)


def test_event_requests_stay_under_five_megabytes() -> None:
    sizes: list[int] = []

    def handler(request: httpx.Request) -> httpx.Response:
        sizes.append(len(request.content))
        return jsonapi(202, {"data": {"type": "event-bulk-create-job", "id": "j"}})

    traits = {"notes": "x" * 9_000}
    events = [
        Event(f"e{i}", "entered", "r1", datetime(2026, 1, 1), f"p{i}", f"{i}@x.com", None, traits)
        for i in range(1_000)
    ]
    sink = Sink()
    send(destination(handler), work(events=events), sink)
    assert len(sizes) >= 2 and max(sizes) <= 5_000_000
    assert sum(a.ok for a in sink.events_) == 1_000


def test_a_stale_remembered_profile_id_is_looked_up_again() -> None:
    deleted: list[list[str]] = []

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/api/lists":
            return jsonapi(200, lists_with("L1"))
        if request.url.path == "/api/profiles":
            found = {"type": "profile", "id": "01NEW", "attributes": {"email": "a@x.com"}}
            return jsonapi(200, {"data": [found], "links": {}})
        ids = [item["id"] for item in json.loads(request.content)["data"]]
        deleted.append(ids)
        if "01GONE" in ids:
            return jsonapi(400, {"errors": [{"id": "1", "code": "invalid", "title": "Invalid"}]})
        return httpx.Response(204)

    sink = Sink()
    send(
        destination(handler),
        SegmentWork(
            segment="vip",
            options={"list": "VIPs"},
            key="email",
            adds=[],
            updates=[],
            removes=[PlanRow("a@x.com", "p1", "h")],
            events=[],
            profile_ids={"a@x.com": "01GONE"},
        ),
        sink,
    )
    assert deleted == [["01GONE"], ["01NEW"]]
    assert sink.ids == {"a@x.com": "01NEW"}
    assert [(a.destination_key, a.ok) for a in sink.rows_] == [("a@x.com", True)]


def test_two_segments_cannot_share_a_list() -> None:
    target = destination(lambda request: jsonapi(500, {}))
    with pytest.raises(KlaviyoConfigError, match="vip and winback both sync to the Klaviyo list"):
        target.check_options({"vip": {"list": "VIPs"}, "winback": {"list": " VIPs "}})
    with pytest.raises(DestinationOptionsError, match="segment lapsed: list: field required"):
        target.check_options({"lapsed": {"events": True}})
    target.check_options({"vip": {"list": "VIPs"}, "winback": {"list": "Winback"}})


def test_a_5xx_on_list_create_is_followed_by_a_lookup_not_a_failed_segment() -> None:
    """The server may have created the list before failing: look it up, and only create again
    when it is really missing."""
    creates: list[int] = []

    def handler(request: httpx.Request) -> httpx.Response:
        if request.method == "POST" and request.url.path == "/api/lists":
            creates.append(1)
            return jsonapi(500, {"errors": [{"code": "error", "title": "Server error"}]})
        if request.url.path == "/api/lists":
            return jsonapi(200, lists_with("L7") if creates else {"data": [], "links": {}})
        return jsonapi(202, job("complete", 1))

    sink = Sink()
    send(destination(handler), work(adds=[member(0)]), sink)
    assert creates == [1]
    assert [a.ok for a in sink.rows_] == [True]
