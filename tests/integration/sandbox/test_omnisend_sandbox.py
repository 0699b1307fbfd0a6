"""The Omnisend sandbox over real sockets: the rules of its documents and NOTES.md, as a client
sees them.

Why: the Omnisend client will be only as right as the sandbox it is tested against. Each test
here would fail if the sandbox accepted what Omnisend refuses, answered in a shape the spec does
not document (success bodies are validated against the spec's response schemas), finished
asynchronous work synchronously, or counted the brand's rate limit differently. Time is a fake
clock the tests step, so asynchronous completion and windows are exact, with no sleeps.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from activations.sandbox import Faults, SandboxServer
from activations.sandbox.omnisend import OmnisendSandbox

pytestmark = pytest.mark.integration

API_KEY = "test-key-omnisend"
HEADERS = {"Authorization": f"Omnisend-API-Key {API_KEY}", "Omnisend-Version": "2026-03-15"}
DELAY = 5.0  # API seconds a batch or tag change takes


class FakeClock:
    """Monotonic wall seconds the test advances by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def sandbox(clock: FakeClock) -> OmnisendSandbox:
    return OmnisendSandbox(API_KEY, seed=0, batch_seconds=DELAY, tag_seconds=DELAY, clock=clock)


@pytest.fixture
def client(sandbox: OmnisendSandbox) -> Iterator[httpx.Client]:
    with (
        SandboxServer(sandbox.app) as server,
        httpx.Client(base_url=f"{server.url}/api", headers=HEADERS, timeout=10.0) as http,
    ):
        yield http


def ok(sandbox: OmnisendSandbox, response: httpx.Response, operation: str, status: int) -> Any:
    """Assert the status and that the body is what the spec documents for it."""
    assert response.status_code == status, response.text
    body = response.json() if response.content else None
    for spec in sandbox.specs.values():
        if operation in spec.operations:
            assert spec.validate_response(spec.operations[operation], status, body) == []
    return body


def problem(response: httpx.Response, status: int) -> dict[str, Any]:
    """Assert an RFC 7807 problem of `status`."""
    assert response.status_code == status, response.text
    body = response.json()
    assert body["status"] == status
    assert {"type", "title", "detail", "instance"} <= set(body)
    return dict(body)


def email_contact(email: str, **fields: Any) -> dict[str, Any]:
    identifier = {"type": "email", "id": email, "channels": {"email": {"status": "subscribed"}}}
    return {"identifiers": [identifier], **fields}


# ------------------------------------------------------------------ auth, version, routes


def test_a_missing_or_wrong_key_is_a_401_problem(client: httpx.Client) -> None:
    headers = {"Omnisend-Version": "2026-03-15"}
    with httpx.Client(base_url=client.base_url, headers=headers) as bare:
        problem(bare.get("/contacts"), 401)
        problem(bare.get("/contacts", headers={"Authorization": "Omnisend-API-Key nope"}), 401)
        problem(bare.get("/contacts", headers={"Authorization": f"Bearer {API_KEY}"}), 401)


def test_the_version_header_is_required_and_a_retired_version_is_gone(
    client: httpx.Client,
) -> None:
    assert (
        "Omnisend-Version"
        in problem(client.get("/contacts", headers={"Omnisend-Version": ""}), 400)["detail"]
    )
    problem(client.get("/contacts", headers={"Omnisend-Version": "2025-01-01"}), 410)
    problem(client.get("/contacts", headers={"Omnisend-Version": "latest"}), 400)


def test_unknown_routes_are_404_problems_and_wrong_methods_405(client: httpx.Client) -> None:
    problem(client.get("/lists"), 404)
    problem(client.get("/v5/contacts"), 404)
    problem(client.put("/events", json={}), 405)


def test_a_body_breaking_the_schema_is_a_400_naming_the_field(client: httpx.Client) -> None:
    body = problem(
        client.post("/contacts", json={"identifiers": [{"type": "fax", "id": "x"}]}), 400
    )
    assert body["errors"][0]["field"] == "identifiers.0.type"
    body = problem(client.post("/batches", json={"method": "POST", "items": [{}]}), 400)
    assert body["errors"][0]["field"] == "endpoint"
    body = problem(client.get("/contacts", params={"limit": 999}), 400)
    assert body["errors"][0]["field"] == "limit"
    problem(
        client.post("/contacts", content=b"{", headers={"Content-Type": "application/json"}), 400
    )


# ------------------------------------------------------------------------------ contacts


def test_post_contacts_creates_then_updates_by_email(
    sandbox: OmnisendSandbox, client: httpx.Client
) -> None:
    created = ok(
        sandbox,
        client.post("/contacts", json=email_contact("ann@example.com", firstName="Ann")),
        "POST /contacts",
        201,
    )
    updated = ok(
        sandbox,
        client.post(
            "/contacts",
            json={"identifiers": [{"type": "email", "id": "ANN@example.com"}], "lastName": "Lee"},
        ),
        "POST /contacts",
        200,
    )
    assert updated["id"] == created["id"]
    assert (updated["firstName"], updated["lastName"]) == ("Ann", "Lee")
    # an update that omits channels keeps the subscription status given before
    assert updated["identifiers"][0]["channels"] == {"email": {"status": "subscribed"}}
    assert len(sandbox.state.contacts) == 1


def test_a_phone_only_contact_upserts_by_phone_and_phones_must_be_e164(
    sandbox: OmnisendSandbox, client: httpx.Client
) -> None:
    phone = {"identifiers": [{"type": "phone", "id": "+14155550100"}]}
    first = ok(sandbox, client.post("/contacts", json=phone), "POST /contacts", 201)
    again = ok(sandbox, client.post("/contacts", json=phone), "POST /contacts", 200)
    assert first["id"] == again["id"] and again["phone"] == ["+14155550100"]
    bad = problem(
        client.post("/contacts", json={"identifiers": [{"type": "phone", "id": "555"}]}), 400
    )
    assert bad["errors"][0]["field"] == "identifiers.0.id"
    problem(client.post("/contacts", json={"identifiers": []}), 400)


def test_a_phone_that_belongs_to_another_contact_is_a_409(client: httpx.Client) -> None:
    client.post("/contacts", json={"identifiers": [{"type": "phone", "id": "+14155550100"}]})
    taken = email_contact("bo@example.com")
    taken["identifiers"].append({"type": "phone", "id": "+14155550100"})
    problem(client.post("/contacts", json=taken), 409)


def test_consent_is_stored_as_given(sandbox: OmnisendSandbox, client: httpx.Client) -> None:
    consent = {
        "source": "signup-form",
        "ip": "192.0.2.1",
        "userAgent": "UA",
        "createdAt": "2026-01-01T00:00:00Z",
    }
    body = email_contact("cy@example.com")
    body["identifiers"][0].update(consent=consent, sendWelcomeMessage=False)
    created = ok(sandbox, client.post("/contacts", json=body), "POST /contacts", 201)
    assert created["consents"] == [{"channel": "email", **consent}]
    stored = sandbox.state.contacts[created["id"]].identifiers[0]
    assert stored["consent"] == consent and stored["sendWelcomeMessage"] is False


def test_get_by_id_and_list_with_email_phone_and_tag_filters(
    sandbox: OmnisendSandbox, client: httpx.Client
) -> None:
    ann = client.post("/contacts", json=email_contact("ann@example.com", tags=["vip"])).json()
    client.post("/contacts", json=email_contact("bo@example.com"))
    client.post("/contacts", json={"identifiers": [{"type": "phone", "id": "+14155550101"}]})
    got = ok(sandbox, client.get(f"/contacts/{ann['id']}"), "GET /contacts/{id}", 200)
    assert got["email"] == "ann@example.com"
    problem(client.get("/contacts/000000000000000000000000"), 404)

    def emails(**params: Any) -> list[str | None]:
        body = ok(sandbox, client.get("/contacts", params=params), "GET /contacts", 200)
        return [c.get("email") or c["phone"][0] for c in body["contacts"]]

    assert emails(email="ann@example.com") == ["ann@example.com"]
    assert emails(phone="+14155550101") == ["+14155550101"]
    assert emails(tag="vip") == ["ann@example.com"]
    assert sorted(map(str, emails())) == ["+14155550101", "ann@example.com", "bo@example.com"]
    problem(client.get("/contacts", params={"tag": "vip", "status": "subscribed"}), 400)


def test_listing_pages_with_after_cursors(sandbox: OmnisendSandbox, client: httpx.Client) -> None:
    for n in range(5):
        client.post("/contacts", json=email_contact(f"p{n}@example.com"))
    seen: list[str] = []
    params: dict[str, Any] = {"limit": 2}
    while True:
        body = ok(sandbox, client.get("/contacts", params=params), "GET /contacts", 200)
        seen += [c["email"] for c in body["contacts"]]
        if not body["paging"]["hasMore"]:
            break
        params["after"] = body["paging"]["cursors"]["after"]
    assert sorted(seen) == [f"p{n}@example.com" for n in range(5)]


# ------------------------------------------------------------------------------- batches


def test_a_batch_is_in_progress_until_its_delay_then_finished_with_per_item_results(
    sandbox: OmnisendSandbox, client: httpx.Client, clock: FakeClock
) -> None:
    items = [email_contact("ok@example.com"), {"identifiers": [{"type": "email", "id": 5}]}]
    created = ok(
        sandbox,
        client.post("/batches", json={"method": "POST", "endpoint": "contacts", "items": items}),
        "POST /batches",
        201,
    )
    assert created["totalCount"] == 2
    batch_id = created["batchID"]
    pending = ok(sandbox, client.get(f"/batches/{batch_id}"), "GET /batches/{batchID}", 200)
    assert pending["status"] == "inProgress" and pending["finishedCount"] == 0
    assert sandbox.state.contacts == {}  # nothing applied yet
    assert (
        ok(sandbox, client.get(f"/batches/{batch_id}/items"), "GET /batches/{batchID}/items", 200)[
            "responses"
        ]
        == []
    )

    clock.now += DELAY  # time_scale 1: wall seconds are API seconds
    done = ok(sandbox, client.get(f"/batches/{batch_id}"), "GET /batches/{batchID}", 200)
    assert (done["status"], done["finishedCount"], done["errorsCount"]) == ("finished", 2, 1)
    results = ok(
        sandbox, client.get(f"/batches/{batch_id}/items"), "GET /batches/{batchID}/items", 200
    )
    by_request = [(r["request"], r["responseCode"]) for r in results["responses"]]
    assert by_request == [(items[0], 201), (items[1], 400)]
    assert results["errors"][0]["response"]["errors"][0]["field"] == "identifiers.0.id"
    assert [c.identifier("email") for c in sandbox.state.contacts.values()] == ["ok@example.com"]


def test_a_batch_takes_at_most_100_items_and_only_known_endpoints(client: httpx.Client) -> None:
    items = [email_contact(f"c{n}@example.com") for n in range(101)]
    body = problem(
        client.post("/batches", json={"method": "POST", "endpoint": "contacts", "items": items}),
        400,
    )
    assert body["errors"][0]["field"] == "items"
    problem(
        client.post("/batches", json={"method": "POST", "endpoint": "contacts", "items": []}), 400
    )
    problem(
        client.post("/batches", json={"method": "PATCH", "endpoint": "contacts", "items": [{}]}),
        400,
    )
    assert (
        client.post(
            "/batches", json={"method": "POST", "endpoint": "contacts", "items": items[:100]}
        ).status_code
        == 201
    )


def test_put_batches_update_existing_contacts_only(client: httpx.Client, clock: FakeClock) -> None:
    client.post("/contacts", json=email_contact("old@example.com"))
    items = [email_contact("old@example.com", firstName="Old"), email_contact("new@example.com")]
    batch_id = client.post(
        "/batches", json={"method": "PUT", "endpoint": "contacts", "items": items}
    ).json()["batchID"]
    clock.now += DELAY
    codes = [
        r["responseCode"] for r in client.get(f"/batches/{batch_id}/items").json()["responses"]
    ]
    assert codes == [200, 404]


def test_item_level_faults_fail_single_items_retryably(
    sandbox: OmnisendSandbox, client: httpx.Client, clock: FakeClock
) -> None:
    sandbox.set_faults(Faults(partial_job_rate=0.5))
    items = [email_contact(f"f{n}@example.com") for n in range(40)]
    batch_id = client.post(
        "/batches", json={"method": "POST", "endpoint": "contacts", "items": items}
    ).json()["batchID"]
    clock.now += DELAY
    results = client.get(f"/batches/{batch_id}/items").json()
    codes = [r["responseCode"] for r in results["responses"]]
    assert set(codes) == {201, 503}
    assert len(sandbox.state.contacts) == codes.count(201)
    assert all(e["responseCode"] == 503 for e in results["errors"])


def test_batches_are_listed_by_endpoint(client: httpx.Client) -> None:
    event = {"eventName": "viewed", "origin": "api", "contact": {"email": "e@example.com"}}
    events_batch = client.post(
        "/batches", json={"method": "POST", "endpoint": "events", "items": [event]}
    ).json()["batchID"]
    client.post(
        "/batches",
        json={"method": "POST", "endpoint": "contacts", "items": [email_contact("x@example.com")]},
    )
    listed = client.get("/batches", params={"endpoint": "events"}).json()["batches"]
    assert [b["batchID"] for b in listed] == [events_batch]
    problem(client.get("/batches"), 400)  # endpoint is a required query parameter


def test_batches_are_listed_from_a_day_on(
    client: httpx.Client, sandbox: OmnisendSandbox, clock: FakeClock
) -> None:
    event = {"eventName": "viewed", "origin": "api", "contact": {"email": "e@example.com"}}
    body = {"method": "POST", "endpoint": "events", "items": [event]}
    yesterdays = client.post("/batches", json=body).json()["batchID"]
    clock.now += 86_400
    todays = client.post("/batches", json=body).json()["batchID"]
    today = sandbox.state.now_datetime().date()

    def listed(**params: str) -> list[str]:
        page = client.get("/batches", params={"endpoint": "events", **params})
        return [b["batchID"] for b in page.json()["batches"]]

    assert listed() == [todays, yesterdays]
    assert listed(dateFrom=today.isoformat()) == [todays]
    assert listed(dateTo=str(today.fromordinal(today.toordinal() - 1))) == [yesterdays]
    problem(client.get("/batches", params={"endpoint": "events", "dateFrom": "03/12"}), 400)


# ------------------------------------------------------------------------------ commands


def test_the_command_line_knows_omnisend() -> None:
    from activations.sandbox.__main__ import main

    with pytest.raises(SystemExit) as exited:
        main(["omnisend", "--help"])
    assert exited.value.code == 0


# ---------------------------------------------------------------------------------- tags


def test_tags_are_applied_asynchronously_and_unmatched_addresses_are_ignored(
    sandbox: OmnisendSandbox, client: httpx.Client, clock: FakeClock
) -> None:
    ann = client.post("/contacts", json=email_contact("ann@example.com")).json()
    phone = client.post(
        "/contacts", json={"identifiers": [{"type": "phone", "id": "+14155550102"}]}
    ).json()
    add = {
        "tags": ["vip", "q3"],
        "emails": ["ann@example.com", "nobody@example.com"],
        "phones": ["+14155550102"],
    }
    response = client.post("/contacts/tags", json=add)
    assert response.status_code == 202 and response.content == b""
    assert client.get(f"/contacts/{ann['id']}").json()["tags"] == []  # not yet
    clock.now += DELAY
    assert client.get(f"/contacts/{ann['id']}").json()["tags"] == ["vip", "q3"]
    assert client.get(f"/contacts/{phone['id']}").json()["tags"] == ["vip", "q3"]
    assert len(sandbox.state.contacts) == 2  # the unmatched address created nothing

    removed = client.request(
        "DELETE", "/contacts/tags", json={"tags": ["q3"], "contactIDs": [ann["id"]]}
    )
    assert removed.status_code == 202
    clock.now += DELAY
    assert client.get(f"/contacts/{ann['id']}").json()["tags"] == ["vip"]
    assert client.get(f"/contacts/{phone['id']}").json()["tags"] == ["vip", "q3"]


def test_a_tag_call_takes_at_most_250_addresses_and_needs_a_selector(client: httpx.Client) -> None:
    emails = [f"t{n}@example.com" for n in range(251)]
    body = problem(client.post("/contacts/tags", json={"tags": ["a"], "emails": emails}), 400)
    assert body["errors"][0]["field"] == "emails"
    assert (
        client.post("/contacts/tags", json={"tags": ["a"], "emails": emails[:250]}).status_code
        == 202
    )
    problem(client.post("/contacts/tags", json={"tags": ["a"]}), 400)
    problem(client.post("/contacts/tags", json={"tags": [], "emails": ["a@example.com"]}), 400)


# ---------------------------------------------------------------------------- rate limits


def test_the_brand_may_send_400_requests_a_minute_then_gets_a_rate_limit_problem(
    client: httpx.Client, clock: FakeClock
) -> None:
    codes = [client.get("/contacts").status_code for _ in range(400)]
    assert set(codes) == {200}
    refused = problem(client.get("/contacts"), 429)
    assert refused["retryAfter"] == 60
    assert problem(client.post("/events", json={}), 429)["retryAfter"] == 60  # brand-wide
    clock.now += 59.5
    assert client.get("/batches", params={"endpoint": "events"}).status_code == 429
    clock.now += 0.5  # the first requests leave the sliding window
    assert client.get("/contacts").status_code == 200


def test_contacts_tags_is_limited_to_60_a_minute_on_top(
    client: httpx.Client, clock: FakeClock
) -> None:
    tag = {"tags": ["a"], "emails": ["a@example.com"]}
    assert {client.post("/contacts/tags", json=tag).status_code for _ in range(60)} == {202}
    refused = problem(client.post("/contacts/tags", json=tag), 429)
    assert refused["retryAfter"] == 60
    assert client.get("/contacts").status_code == 200  # the brand still has room
    clock.now += 60
    assert client.request("DELETE", "/contacts/tags", json=tag).status_code == 202


# -------------------------------------------------------------------------------- events


def test_events_are_stored_and_only_historical_ones_are_deduplicated(
    sandbox: OmnisendSandbox, client: httpx.Client
) -> None:
    historical = {
        "eventName": "placed order",
        "origin": "api",
        "eventID": "9afca57b-d157-478b-adde-b9506322b16f",
        "eventTime": "2021-07-01T00:00:00Z",
        "contact": {"email": "ann@example.com"},
        "properties": {"value": 10},
    }
    for _ in range(2):
        response = client.post("/events", json=historical)
        assert response.status_code == 202 and response.content == b""
    live = {**historical, "eventTime": sandbox.state.timestamp()}
    for _ in range(2):
        assert client.post("/events", json=live).status_code == 202
    assert [e.body["eventTime"] for e in sandbox.state.events] == [
        historical["eventTime"],
        live["eventTime"],
        live["eventTime"],
    ]
    assert sandbox.state.duplicate_events == 1
    assert [c.identifier("email") for c in sandbox.state.contacts.values()] == ["ann@example.com"]


def test_an_event_creates_or_updates_its_contact(
    sandbox: OmnisendSandbox, client: httpx.Client
) -> None:
    known = client.post("/contacts", json=email_contact("ann@example.com")).json()
    for contact in ({"email": "ann@example.com", "firstName": "Ann"}, {"phone": "+14155550103"}):
        assert (
            client.post("/events", json={"eventName": "x", "contact": contact}).status_code == 202
        )
    assert sandbox.state.contacts[known["id"]].fields["firstName"] == "Ann"
    assert sorted(sandbox.state.by_phone) == ["+14155550103"]
    bad = {"eventName": "x", "contact": {"phone": "0800"}}
    assert problem(client.post("/events", json=bad), 400)["errors"][0]["field"] == "contact.phone"
    assert len(sandbox.state.events) == 2


def test_an_event_needs_a_name_and_a_contact(client: httpx.Client) -> None:
    assert (
        problem(client.post("/events", json={"contact": {"email": "a@example.com"}}), 400)[
            "errors"
        ][0]["field"]
        == "eventName"
    )
    assert (
        problem(client.post("/events", json={"eventName": "x", "contact": {}}), 400)["errors"][0][
            "field"
        ]
        == "contact"
    )
    bad_time = {"eventName": "x", "contact": {"email": "a@example.com"}, "eventTime": "yesterday"}
    assert problem(client.post("/events", json=bad_time), 400)["errors"][0]["field"] == "eventTime"


def test_events_in_a_batch_are_stored_and_deduplicated_like_single_ones(
    sandbox: OmnisendSandbox, client: httpx.Client, clock: FakeClock
) -> None:
    event = {
        "eventName": "viewed",
        "origin": "api",
        "eventID": "e-1",
        "eventTime": "2021-01-01T00:00:00Z",
        "contact": {"email": "e@example.com"},
    }
    items = [event, event, {"origin": "api"}]
    batch_id = client.post(
        "/batches", json={"method": "POST", "endpoint": "events", "items": items}
    ).json()["batchID"]
    clock.now += DELAY
    codes = [
        r["responseCode"] for r in client.get(f"/batches/{batch_id}/items").json()["responses"]
    ]
    assert codes == [202, 202, 400]
    assert len(sandbox.state.events) == 1 and sandbox.state.duplicate_events == 1


# -------------------------------------------------------------------------------- faults


@pytest.mark.parametrize("kind", ["429", "500", "503"])
def test_injected_errors_are_problems_and_nothing_is_applied(
    sandbox: OmnisendSandbox, client: httpx.Client, kind: str
) -> None:
    sandbox.set_faults(Faults(rate=1.0, kinds=(kind,)))  # type: ignore[arg-type]
    body = problem(client.post("/contacts", json=email_contact("f@example.com")), int(kind))
    if kind == "429":
        assert body["retryAfter"] >= 1
    assert sandbox.state.contacts == {}
    root = str(client.base_url).removesuffix("/").removesuffix("/api")
    state = httpx.get(f"{root}/__sandbox__/state").json()
    assert state["faults"] == {kind: 1}  # the inspection route is not itself faulted


def test_a_dropped_connection_after_the_request_still_applies_it(
    sandbox: OmnisendSandbox, client: httpx.Client
) -> None:
    sandbox.set_faults(Faults(rate=1.0, kinds=("drop_after",)))
    with pytest.raises(httpx.RemoteProtocolError):
        client.post("/contacts", json=email_contact("lost@example.com"))
    sandbox.set_faults(Faults())
    found = client.get("/contacts", params={"email": "lost@example.com"}).json()["contacts"]
    assert len(found) == 1  # the lost acknowledgement: a blind retry would be an update, not a dup
    sandbox.set_faults(Faults(rate=1.0, kinds=("drop_before",)))
    with pytest.raises(httpx.RemoteProtocolError):
        client.post("/contacts", json=email_contact("never@example.com"))
    assert len(sandbox.state.contacts) == 1
