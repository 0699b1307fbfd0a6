"""The webhook sandbox over real sockets: the checks a careful partner makes, as a sender sees them.

Why: the webhook destination will be only as right as the receiver it is tested against. Each
test here would fail if the sandbox applied a batch nobody signed (tampered, wrong secret, no
header), accepted a replay outside the tolerance either way, took a body whose batch id or shape
is not the contract's, applied a re-sent batch twice or lost track of the re-send, mixed up two
partners' hooks, or answered a fault differently from what the retry code is written for.
Signatures are made with the real scheme (`signature_header`); the receiver's clock is injected
where time matters, so nothing sleeps.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from activations.sandbox import Faults, SandboxServer
from activations.sandbox.webhook import WebhookSandbox
from activations.webhook_signature import BATCH_ID_HEADER, SIGNATURE_HEADER, signature_header

pytestmark = pytest.mark.integration

SECRET = "whsec_test_sandbox"
HOOK = "/hooks/crm"
TOLERANCE = 300


class FakeClock:
    """The receiver's Unix clock, stepped by hand."""

    def __init__(self, now: float = 1_733_350_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def batch(batch_id: str = "b-1", **changes: Any) -> dict[str, Any]:
    """A membership batch of two adds, as the destination writes one."""
    document: dict[str, Any] = {
        "batch_id": batch_id,
        "segment": "vip",
        "keyed_by": "email",
        "type": "membership",
        "records": [
            {"id": f"{batch_id}-r1", "operation": "add", "key": "a@example.com"},
            {"id": f"{batch_id}-r2", "operation": "add", "key": "b@example.com"},
        ],
    }
    return document | changes


def encode(document: Any) -> bytes:
    return json.dumps(document, separators=(",", ":")).encode()


def headers_for(
    body: bytes,
    *,
    batch_id: str | None = "b-1",
    secrets: tuple[str, ...] = (SECRET,),
    timestamp: int | None = None,
) -> dict[str, str]:
    """Signed headers for `body`, now (the real clock) unless `timestamp` is given."""
    signed_at = int(time.time()) if timestamp is None else timestamp
    headers = {
        "Content-Type": "application/json",
        SIGNATURE_HEADER: signature_header(secrets, signed_at, body),
    }
    if batch_id is not None:
        headers[BATCH_ID_HEADER] = batch_id
    return headers


def deliver(
    client: httpx.Client, document: dict[str, Any], path: str = HOOK, **options: Any
) -> httpx.Response:
    """POST `document` signed as the destination signs it."""
    body = encode(document)
    return client.post(path, content=body, headers=headers_for(body, **options))


def refused(response: httpx.Response, status: int) -> str:
    """Assert the status and the `{"error": reason}` body; return the reason."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/json"
    body = response.json()
    assert set(body) == {"error"} and body["error"], body
    return str(body["error"])


def nothing_stored(sandbox: WebhookSandbox) -> None:
    assert sandbox.state.deliveries == []
    assert sandbox.state.batches() == []
    assert sandbox.state.records() == []


@pytest.fixture
def sandbox() -> WebhookSandbox:
    return WebhookSandbox(SECRET, tolerance_seconds=TOLERANCE)


@pytest.fixture
def client(sandbox: WebhookSandbox) -> Iterator[httpx.Client]:
    with SandboxServer(sandbox.app) as server, httpx.Client(base_url=server.url) as http:
        yield http


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def timed(clock: FakeClock) -> WebhookSandbox:
    """A sandbox whose clock the test steps."""
    return WebhookSandbox(SECRET, tolerance_seconds=TOLERANCE, clock=clock)


@pytest.fixture
def timed_client(timed: WebhookSandbox) -> Iterator[httpx.Client]:
    with SandboxServer(timed.app) as server, httpx.Client(base_url=server.url) as http:
        yield http


# --- accepted batches -------------------------------------------------------------------------


def test_a_signed_batch_is_accepted_and_inspectable(
    sandbox: WebhookSandbox, client: httpx.Client
) -> None:
    before = int(time.time())
    response = deliver(client, batch("b-1"))
    assert response.status_code == 200, response.text
    assert response.json() == {"batch_id": "b-1", "records": 2, "duplicate": False}
    [delivery] = sandbox.state.deliveries
    assert (delivery.hook, delivery.batch_id, delivery.duplicate) == ("crm", "b-1", False)
    assert before <= delivery.timestamp <= int(time.time())
    assert delivery.payload == batch("b-1")
    assert sandbox.state.batches() == [batch("b-1")]
    assert [r["key"] for r in sandbox.state.records()] == ["a@example.com", "b@example.com"]
    assert sandbox.state.rejected == {}


def test_records_are_flattened_in_arrival_order_and_filtered_by_type(
    sandbox: WebhookSandbox, client: httpx.Client
) -> None:
    events = {
        "batch_id": "e-1",
        "segment": "vip",
        "keyed_by": "person_id",
        "type": "events",
        "records": [{"id": "ev-9", "change": "entered", "person_id": "p9"}],
    }
    assert deliver(client, batch("m-1"), batch_id="m-1").status_code == 200
    assert deliver(client, events, batch_id="e-1").status_code == 200
    assert deliver(client, batch("m-2"), batch_id="m-2").status_code == 200
    assert [r["id"] for r in sandbox.state.records()] == [
        "m-1-r1",
        "m-1-r2",
        "ev-9",
        "m-2-r1",
        "m-2-r2",
    ]
    assert [r["id"] for r in sandbox.state.records(type="events")] == ["ev-9"]
    assert len(sandbox.state.records(type="membership")) == 4
    assert sandbox.state.records(hook="other") == []


def test_readers_get_copies_of_what_was_received(
    sandbox: WebhookSandbox, client: httpx.Client
) -> None:
    assert deliver(client, batch("b-1")).status_code == 200
    sandbox.state.batches()[0]["records"].clear()
    sandbox.state.records()[0]["id"] = "edited"
    assert sandbox.state.batches() == [batch("b-1")]


# --- signatures -------------------------------------------------------------------------------


def test_a_body_changed_after_signing_is_refused_and_nothing_stored(
    sandbox: WebhookSandbox, client: httpx.Client
) -> None:
    body = encode(batch("b-1"))
    headers = headers_for(body)
    tampered = body.replace(b"a@example.com", b"a@example.con")
    assert len(tampered) == len(body) and tampered != body
    reason = refused(client.post(HOOK, content=tampered, headers=headers), 401)
    assert "does not match" in reason
    nothing_stored(sandbox)
    assert sandbox.state.rejected == {"mismatch": 1}


def test_re_serialised_json_does_not_verify(sandbox: WebhookSandbox, client: httpx.Client) -> None:
    """The signature covers the raw bytes: the same JSON with other spacing is other bytes."""
    document = batch("b-1")
    headers = headers_for(encode(document))
    response = client.post(HOOK, content=json.dumps(document, indent=2).encode(), headers=headers)
    refused(response, 401)
    nothing_stored(sandbox)


def test_a_wrong_secret_is_refused(sandbox: WebhookSandbox, client: httpx.Client) -> None:
    refused(deliver(client, batch("b-1"), secrets=("whsec_someone_else",)), 401)
    nothing_stored(sandbox)
    assert sandbox.state.rejected == {"mismatch": 1}


def test_a_missing_signature_is_refused(sandbox: WebhookSandbox, client: httpx.Client) -> None:
    body = encode(batch("b-1"))
    response = client.post(HOOK, content=body, headers={BATCH_ID_HEADER: "b-1"})
    assert SIGNATURE_HEADER in refused(response, 401)
    nothing_stored(sandbox)
    assert sandbox.state.rejected == {"missing": 1}


@pytest.mark.parametrize(
    "header",
    [
        "sha256=deadbeef",
        "t=1733350000",  # no v1
        "v1=" + "0" * 64,  # no t
        "t=yesterday,v1=" + "0" * 64,
        "t=-5,v1=" + "0" * 64,
        "t=" + "9" * 5000 + ",v1=" + "0" * 64,  # beyond int()'s digit limit
        "t=" + "9" * 400 + ",v1=" + "0" * 64,  # an int no float can hold
        b"t=\xb2,v1=00".decode("latin-1"),  # a superscript two: isdigit() but not int()
        "t=NOW,v1=\xe9\xe9",  # non-ASCII signature: compare_digest refuses to compare
    ],
)
def test_a_malformed_signature_is_refused_not_a_server_error(
    sandbox: WebhookSandbox, client: httpx.Client, header: str
) -> None:
    body = encode(batch("b-1"))
    value = header.replace("NOW", str(int(time.time()))).encode("latin-1")
    response = client.post(
        HOOK, content=body, headers={SIGNATURE_HEADER: value, BATCH_ID_HEADER: b"b-1"}
    )
    assert "malformed" in refused(response, 401)
    nothing_stored(sandbox)
    assert sandbox.state.rejected == {"malformed": 1}


def test_a_rotation_header_is_accepted_when_any_entry_matches(
    sandbox: WebhookSandbox, client: httpx.Client
) -> None:
    new_first = deliver(client, batch("b-1"), batch_id="b-1", secrets=(SECRET, "whsec_old"))
    old_first = deliver(client, batch("b-2"), batch_id="b-2", secrets=("whsec_new", SECRET))
    neither = deliver(client, batch("b-3"), batch_id="b-3", secrets=("whsec_new", "whsec_old"))
    assert new_first.status_code == 200, new_first.text
    assert old_first.status_code == 200, old_first.text
    refused(neither, 401)
    assert [b["batch_id"] for b in sandbox.state.batches()] == ["b-1", "b-2"]
    assert sandbox.state.rejected == {"mismatch": 1}


# --- timestamps -------------------------------------------------------------------------------


def test_a_replay_after_ten_minutes_is_refused_as_stale(
    timed: WebhookSandbox, timed_client: httpx.Client, clock: FakeClock
) -> None:
    body = encode(batch("b-1"))
    headers = headers_for(body, timestamp=int(clock.now))
    assert timed_client.post(HOOK, content=body, headers=headers).status_code == 200
    clock.now += 600
    reason = refused(timed_client.post(HOOK, content=body, headers=headers), 401)
    assert "600 s" in reason
    assert timed.state.rejected == {"stale": 1}
    assert len(timed.state.deliveries) == 1, "a refused replay is no delivery"


def test_a_correctly_signed_old_timestamp_is_stale(
    timed: WebhookSandbox, timed_client: httpx.Client, clock: FakeClock
) -> None:
    refused(deliver(timed_client, batch("b-1"), timestamp=int(clock.now) - 600), 401)
    nothing_stored(timed)
    assert timed.state.rejected == {"stale": 1}


def test_a_stale_delivery_with_a_bad_signature_counts_as_stale(
    timed: WebhookSandbox, timed_client: httpx.Client, clock: FakeClock
) -> None:
    """verify checks the clock first: a receiver need not spend an HMAC on an old delivery."""
    options: dict[str, Any] = {"timestamp": int(clock.now) - 600, "secrets": ("whsec_wrong",)}
    refused(deliver(timed_client, batch("b-1"), **options), 401)
    assert timed.state.rejected == {"stale": 1}


@pytest.mark.parametrize("offset", [-TOLERANCE, TOLERANCE])
def test_a_timestamp_at_the_tolerance_is_accepted(
    timed: WebhookSandbox, timed_client: httpx.Client, clock: FakeClock, offset: int
) -> None:
    response = deliver(timed_client, batch("b-1"), timestamp=int(clock.now) + offset)
    assert response.status_code == 200, response.text
    assert timed.state.deliveries[0].timestamp == int(clock.now) + offset


@pytest.mark.parametrize("offset", [-TOLERANCE - 1, TOLERANCE + 1])
def test_a_timestamp_just_beyond_the_tolerance_either_way_is_refused(
    timed: WebhookSandbox, timed_client: httpx.Client, clock: FakeClock, offset: int
) -> None:
    refused(deliver(timed_client, batch("b-1"), timestamp=int(clock.now) + offset), 401)
    nothing_stored(timed)
    assert timed.state.rejected == {"stale": 1}


def test_a_timestamp_from_the_future_is_refused(
    timed: WebhookSandbox, timed_client: httpx.Client, clock: FakeClock
) -> None:
    """A sender whose clock runs ahead would otherwise mint deliveries replayable for longer."""
    refused(deliver(timed_client, batch("b-1"), timestamp=int(clock.now) + 3600), 401)
    nothing_stored(timed)
    assert timed.state.rejected == {"stale": 1}


# --- the body ---------------------------------------------------------------------------------


def test_a_header_batch_id_other_than_the_bodys_is_refused(
    sandbox: WebhookSandbox, client: httpx.Client
) -> None:
    reason = refused(deliver(client, batch("b-1"), batch_id="b-2"), 400)
    assert "'b-2'" in reason and "'b-1'" in reason
    refused(deliver(client, batch("b-1"), batch_id=None), 400)
    nothing_stored(sandbox)
    assert sandbox.state.rejected == {"batch_id_mismatch": 2}


@pytest.mark.parametrize(
    "body",
    [b"{not json", b'{"batch_id": NaN}', b"\xff\xfe{}", b"[" * 100_000],
    ids=["syntax", "nan", "not-utf8", "deep"],
)
def test_a_signed_body_that_is_not_json_is_refused(
    sandbox: WebhookSandbox, client: httpx.Client, body: bytes
) -> None:
    response = client.post(HOOK, content=body, headers=headers_for(body))
    assert "not valid JSON" in refused(response, 400)
    nothing_stored(sandbox)
    assert sandbox.state.rejected == {"invalid_json": 1}


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"segment": None}, "segment"),
        ({"segment": ""}, "segment"),
        ({"keyed_by": "sms"}, "keyed_by"),
        ({"keyed_by": ["email"]}, "keyed_by"),
        ({"type": "deletions"}, "type"),
        ({"records": {"id": "r1"}}, "records"),
        ({"records": [{"id": "r1"}, {"key": "b@example.com"}]}, "records[1].id"),
        ({"records": [{"id": 7}]}, "records[0].id"),
        ({"records": ["r1"]}, "records[0]"),
    ],
)
def test_a_payload_outside_the_contract_is_refused_naming_the_field(
    sandbox: WebhookSandbox, client: httpx.Client, change: dict[str, Any], field: str
) -> None:
    reason = refused(deliver(client, batch("b-1", **change)), 400)
    assert reason.startswith(field), reason
    nothing_stored(sandbox)
    assert sandbox.state.rejected == {"invalid_payload": 1}


def test_a_body_that_is_not_an_object_or_lacks_a_batch_id_is_refused(
    sandbox: WebhookSandbox, client: httpx.Client
) -> None:
    for body in (b"[]", b'"b-1"', encode({k: v for k, v in batch().items() if k != "batch_id"})):
        refused(client.post(HOOK, content=body, headers=headers_for(body)), 400)
    nothing_stored(sandbox)
    assert sandbox.state.rejected == {"invalid_payload": 3}


# --- at least once, applied once ----------------------------------------------------------------


def test_a_batch_delivered_twice_is_applied_once_and_seen_twice(
    sandbox: WebhookSandbox, client: httpx.Client
) -> None:
    first = deliver(client, batch("b-1"))
    again = deliver(client, batch("b-1"))  # re-signed, as a re-send is
    assert first.json() == {"batch_id": "b-1", "records": 2, "duplicate": False}
    assert again.status_code == 200
    assert again.json() == {"batch_id": "b-1", "duplicate": True}
    assert [d.duplicate for d in sandbox.state.deliveries] == [False, True]
    assert sandbox.state.batches() == [batch("b-1")]
    assert len(sandbox.state.records()) == 2
    assert not any(d.conflict for d in sandbox.state.deliveries)


def test_a_reused_batch_id_with_other_content_keeps_the_first_and_is_flagged(
    sandbox: WebhookSandbox, client: httpx.Client
) -> None:
    assert deliver(client, batch("b-1")).status_code == 200
    other = batch("b-1", records=[{"id": "r-other", "operation": "remove"}])
    assert deliver(client, other).json() == {"batch_id": "b-1", "duplicate": True}
    assert sandbox.state.batches() == [batch("b-1")]
    assert [d.conflict for d in sandbox.state.deliveries] == [False, True]
    assert sandbox.state.summary()["conflicts"] == 1


def test_concurrent_deliveries_of_one_batch_apply_it_once(
    sandbox: WebhookSandbox, client: httpx.Client
) -> None:
    url = str(client.base_url)
    answers: list[Any] = []

    def post() -> None:
        with httpx.Client(base_url=url) as http:
            answers.append(deliver(http, batch("b-1")).json())

    threads = [threading.Thread(target=post) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(a["duplicate"] for a in answers) == [False] + [True] * 7
    assert len(sandbox.state.batches()) == 1 and len(sandbox.state.deliveries) == 8


def test_two_hooks_keep_separate_batches(sandbox: WebhookSandbox, client: httpx.Client) -> None:
    """One sandbox, two partners: the same batch id is new to each of them."""
    assert deliver(client, batch("b-1"), "/hooks/crm").json()["duplicate"] is False
    assert deliver(client, batch("b-1"), "/hooks/warehouse").json()["duplicate"] is False
    assert deliver(client, batch("b-1"), "/hooks/crm").json()["duplicate"] is True
    assert sandbox.state.batches(hook="crm") == [batch("b-1")]
    assert sandbox.state.batches(hook="warehouse") == [batch("b-1")]
    assert len(sandbox.state.batches()) == 2
    assert [d.hook for d in sandbox.state.deliveries] == ["crm", "warehouse", "crm"]
    assert len(sandbox.state.records(hook="warehouse")) == 2


# --- faults -----------------------------------------------------------------------------------


def test_a_lost_answer_is_applied_and_its_re_send_is_a_duplicate(
    sandbox: WebhookSandbox, client: httpx.Client
) -> None:
    sandbox.set_faults(Faults(rate=1.0, kinds=("drop_after",)))
    with pytest.raises((httpx.RemoteProtocolError, httpx.ReadError)):
        deliver(client, batch("b-1"))
    assert sandbox.state.batches() == [batch("b-1")], "applied before the answer was lost"
    sandbox.set_faults(Faults())
    again = deliver(client, batch("b-1"))
    assert again.status_code == 200
    assert again.json() == {"batch_id": "b-1", "duplicate": True}
    assert [d.duplicate for d in sandbox.state.deliveries] == [False, True]
    assert len(sandbox.state.records()) == 2
    assert sandbox.state.faults == {"drop_after": 1}


def test_an_injected_429_carries_retry_after_and_stores_nothing(
    sandbox: WebhookSandbox, client: httpx.Client
) -> None:
    sandbox.set_faults(Faults(rate=1.0, kinds=("429",), retry_after=7))
    response = deliver(client, batch("b-1"))
    assert response.status_code == 429
    assert response.headers["Retry-After"] == "7"
    assert "error" in response.json()
    nothing_stored(sandbox)
    assert sandbox.state.faults == {"429": 1}
    assert sandbox.state.rejected == {}, "an injected fault is no refusal of the delivery"


def test_the_state_route_is_never_faulted(sandbox: WebhookSandbox, client: httpx.Client) -> None:
    sandbox.set_faults(Faults(rate=1.0))
    for _ in range(20):
        assert client.get("/sandbox/state").status_code == 200
    assert sandbox.state.faults == {}


# --- routes and the summary -------------------------------------------------------------------


def test_other_methods_and_paths_are_refused(sandbox: WebhookSandbox, client: httpx.Client) -> None:
    response = client.get(HOOK)
    assert "GET" in refused(response, 405)
    assert response.headers["Allow"] == "POST"
    refused(client.put(HOOK, content=b"{}"), 405)
    refused(client.post("/webhooks/crm", content=b"{}"), 404)
    refused(client.post("/hooks/crm/extra", content=b"{}"), 404)
    refused(client.post("/hooks/", content=b"{}"), 404)
    refused(client.post("/sandbox/state"), 405)
    nothing_stored(sandbox)


def test_the_state_route_serves_the_summary(sandbox: WebhookSandbox, client: httpx.Client) -> None:
    events = {
        "batch_id": "e-1",
        "segment": "vip",
        "keyed_by": "email",
        "type": "events",
        "records": [{"id": "ev-1", "change": "exited"}],
    }
    deliver(client, batch("b-1"))
    deliver(client, batch("b-1"))
    deliver(client, events, "/hooks/events", batch_id="e-1")
    deliver(client, batch("b-2", records=[{"id": "b-1-r1", "operation": "add"}]), batch_id="b-2")
    deliver(client, batch("b-3"), batch_id="b-3", secrets=("whsec_wrong",))
    body = b"{"
    client.post(HOOK, content=body, headers=headers_for(body))
    response = client.get("/sandbox/state")
    assert response.status_code == 200
    summary = response.json()
    assert summary == sandbox.state.summary()
    assert summary == {
        "deliveries": 4,
        "batches": 3,
        "duplicates": 1,
        "conflicts": 0,
        "records": 4,
        "records_by_type": {"events": 1, "membership": 3},
        "records_by_change": {"add": 3, "exited": 1},
        "repeated_records": 1,  # b-2 re-sent b-1's first record inside another batch
        "hooks": {
            "crm": {"deliveries": 3, "duplicates": 1, "batches": 2, "records": 3},
            "events": {"deliveries": 1, "duplicates": 0, "batches": 1, "records": 1},
        },
        "rejected": {"invalid_json": 1, "mismatch": 1},
        "faults": {},
    }


@pytest.mark.parametrize("options", [{"secret": ""}, {"secret": SECRET, "tolerance_seconds": -1}])
def test_impossible_settings_are_refused(options: dict[str, Any]) -> None:
    with pytest.raises(ValueError):
        WebhookSandbox(**options)
