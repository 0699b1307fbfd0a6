"""The Twilio sandbox over real sockets: Twilio's spec, error codes and messaging rules, as a client
sees them.

Why: the SMS client will be only as right as the sandbox it is tested against. Each test here
would fail if the sandbox accepted a send Twilio refuses (or refused with another code), sent to
a recipient who texted STOP, counted segments differently from Twilio's billing, finished a
delivery before its time, answered in a shape the spec does not document (success bodies are
validated against the spec's response schemas), or lost track of a message whose answer was
lost. Time is a fake clock the tests step, so status changes and the send cap are exact.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from contextlib import contextmanager
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from activations.sandbox import Faults, SandboxServer
from activations.sandbox.extract_spec import PROVENANCE_KEY, extract_subset, render, sha256_of
from activations.sandbox.limits import Limit
from activations.sandbox.twilio import (
    OPERATIONS,
    OPT_IN_KEYWORDS,
    OPT_OUT_KEYWORDS,
    SPEC_PATH,
    STATED_LIMITS,
    TwilioSandbox,
)

pytestmark = pytest.mark.integration

ACCOUNT_SID = "AC" + "0123456789abcdef" * 2
AUTH_TOKEN = "test-token-twilio"
SENDER, SECOND_SENDER = "+15005550006", "+15005550007"
RECIPIENT, OTHER = "+14155550100", "+14155550101"
UNDELIVERED, FAILED = "+14155550111", "+14155550122"
SENT, DELIVERED = 1.0, 3.0  # API seconds from creation to "sent" and to "delivered"
ACCOUNT = f"/2010-04-01/Accounts/{ACCOUNT_SID}"
MESSAGES = f"{ACCOUNT}/Messages.json"
SOURCE = "/work/shared/api-specs/twilio/twilio_api_v2010.json"
SOURCE_SHA256 = "99cae87a6bb1725f71363364cbd30282a13140374b2d5f9bdd5bdfa5d4c8a6d7"  # its README
RFC_2822 = re.compile(
    r"^(Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d{2} "
    r"(Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) \d{4} \d{2}:\d{2}:\d{2} \+0000$"
)


class FakeClock:
    """Monotonic wall seconds the test advances by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


def make_sandbox(clock: FakeClock, **options: Any) -> TwilioSandbox:
    settings: dict[str, Any] = {
        "senders": (SENDER, SECOND_SENDER),
        "sent_seconds": SENT,
        "delivered_seconds": DELIVERED,
        "undelivered_numbers": (UNDELIVERED,),
        "failed_numbers": (FAILED,),
        "send_limit": Limit("messages", 1000, 1.0),
        "clock": clock,
    }
    return TwilioSandbox(ACCOUNT_SID, AUTH_TOKEN, **(settings | options))


@contextmanager
def serving(sandbox: TwilioSandbox, timeout: float = 10.0) -> Iterator[httpx.Client]:
    """A client with the account's credentials, on the sandbox served over loopback."""
    with (
        SandboxServer(sandbox.app) as server,
        httpx.Client(base_url=server.url, auth=(ACCOUNT_SID, AUTH_TOKEN), timeout=timeout) as http,
    ):
        yield http


@pytest.fixture
def sandbox(clock: FakeClock) -> TwilioSandbox:
    return make_sandbox(clock)


@pytest.fixture
def client(sandbox: TwilioSandbox) -> Iterator[httpx.Client]:
    with serving(sandbox) as http:
        yield http


def send(client: httpx.Client, **params: Any) -> httpx.Response:
    """POST a form: To, From and Body by default; a None value leaves that parameter out."""
    form = {"To": RECIPIENT, "From": SENDER, "Body": "Hello from cohortflow"} | params
    return client.post(MESSAGES, data={k: v for k, v in form.items() if v is not None})


def ok(sandbox: TwilioSandbox, response: httpx.Response, operation: str, status: int) -> Any:
    """Assert the status and that the body is what the spec documents for it."""
    assert response.status_code == status, response.text
    body = response.json()
    assert sandbox.spec.validate_response(sandbox.spec.operations[operation], status, body) == []
    return body


def refused(response: httpx.Response, status: int, code: int) -> dict[str, Any]:
    """Assert Twilio's error body with this HTTP status and Twilio code."""
    assert response.status_code == status, response.text
    body = response.json()
    assert body == {
        "code": code,
        "message": body["message"],
        "more_info": f"https://www.twilio.com/docs/errors/{code}",
        "status": status,
    }
    assert body["message"]
    return dict(body)


def fetch(client: httpx.Client, sid: str) -> dict[str, Any]:
    response = client.get(f"{ACCOUNT}/Messages/{sid}.json")
    assert response.status_code == 200, response.text
    return dict(response.json())


def listed(client: httpx.Client, **params: Any) -> list[str]:
    response = client.get(MESSAGES, params=params)
    assert response.status_code == 200, response.text
    return [m["sid"] for m in response.json()["messages"]]


def sent_on(message: dict[str, Any]) -> str:
    return parsedate_to_datetime(message["date_sent"]).date().isoformat()


# ------------------------------------------------------------------------------------ auth


def test_missing_or_wrong_credentials_are_refused_with_error_20003(
    sandbox: TwilioSandbox, client: httpx.Client
) -> None:
    url = str(client.base_url.join(MESSAGES))
    form = {"To": RECIPIENT, "From": SENDER, "Body": "hi"}
    missing = httpx.post(url, data=form)
    assert (
        refused(missing, 401, 20003)["message"] == "Authentication Error - No credentials provided"
    )
    assert missing.headers["WWW-Authenticate"] == 'Basic realm="Twilio API"'
    for auth in [(ACCOUNT_SID, "wrong-token"), ("AC" + "1" * 32, AUTH_TOKEN)]:
        assert refused(httpx.post(url, data=form, auth=auth), 401, 20003)["message"] == (
            "Authenticate"
        )
    for header in [f"Bearer {AUTH_TOKEN}", "Basic not-base64!", "Basic " + "Zm9v"]:
        refused(httpx.get(url, headers={"Authorization": header}), 401, 20003)
    assert sandbox.state.outbound == []
    assert sandbox.state.errors[20003] == 6


def test_an_account_in_the_path_other_than_the_authenticated_one_is_refused(
    sandbox: TwilioSandbox, client: httpx.Client
) -> None:
    other = "/2010-04-01/Accounts/AC" + "f" * 32
    refused(client.post(f"{other}/Messages.json", data={"To": RECIPIENT}), 401, 20003)
    refused(client.get(f"{other}/Messages.json"), 401, 20003)
    assert sandbox.state.outbound == []


def test_unknown_routes_are_20404_and_methods_the_spec_does_not_serve_20004(
    client: httpx.Client,
) -> None:
    refused(client.get(f"{ACCOUNT}/Calls.json"), 404, 20404)
    refused(client.get(f"{ACCOUNT}/Messages.xml"), 404, 20404)
    refused(client.delete(MESSAGES), 405, 20004)
    sid = send(client).json()["sid"]
    refused(client.delete(f"{ACCOUNT}/Messages/{sid}.json"), 405, 20004)
    refused(client.post(f"{ACCOUNT}/Messages/{sid}.json", data={"Body": ""}), 405, 20004)


# ---------------------------------------------------------------------------------- sending


def test_a_send_is_accepted_only_as_a_form_encoded_body(
    sandbox: TwilioSandbox, client: httpx.Client
) -> None:
    as_json = client.post(MESSAGES, json={"To": RECIPIENT, "From": SENDER, "Body": "hi"})
    assert "application/x-www-form-urlencoded" in refused(as_json, 400, 21604)["message"]
    assert sandbox.state.outbound == []
    ok(sandbox, send(client), "CreateMessage", 201)
    assert len(sandbox.state.outbound) == 1


def test_a_created_message_is_the_message_resource_the_spec_documents(
    sandbox: TwilioSandbox, client: httpx.Client
) -> None:
    response = send(
        client,
        StatusCallback="https://example.com/status",
        ValidityPeriod="600",
        SmartEncoded="True",
    )
    created = ok(sandbox, response, "CreateMessage", 201)
    schema = sandbox.spec.component("schemas", "api.v2010.account.message")
    assert set(created) == set(schema["properties"])
    sid = created["sid"]
    assert re.fullmatch(r"SM[0-9a-f]{32}", sid)
    assert created | {"sid": sid, "date_created": "", "date_updated": ""} == {
        "account_sid": ACCOUNT_SID,
        "api_version": "2010-04-01",
        "body": "Hello from cohortflow",
        "date_created": "",
        "date_sent": None,
        "date_updated": "",
        "direction": "outbound-api",
        "error_code": None,
        "error_message": None,
        "from": SENDER,
        "messaging_service_sid": sandbox.state.messaging_service_sid,
        "num_media": "0",
        "num_segments": "1",
        "price": None,
        "price_unit": None,
        "sid": sid,
        "status": "queued",
        "subresource_uris": {"media": f"{ACCOUNT}/Messages/{sid}/Media.json"},
        "to": RECIPIENT,
        "uri": f"{ACCOUNT}/Messages/{sid}.json",
    }
    assert RFC_2822.match(created["date_created"])
    assert created["date_updated"] == created["date_created"]
    stored = sandbox.state.outbound[0]
    assert stored.params["StatusCallback"] == "https://example.com/status"
    assert (stored.params["ValidityPeriod"], stored.params["SmartEncoded"]) == (600, True)


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({"To": None}, 21604),
        ({"To": ""}, 21604),
        ({"To": "4155550100"}, 21211),
        ({"To": "whatsapp:+14155550100"}, 21211),
        ({"From": None}, 21603),
        ({"From": "+14155550199"}, 21606),
        ({"From": None, "MessagingServiceSid": "MG123"}, 21705),
        ({"From": None, "MessagingServiceSid": "MG" + "f" * 32}, 21701),
        ({"Body": None}, 21602),
        ({"Body": "a" * 1601}, 21617),
        ({"Body": "😀" * 801}, 21617),
        ({"MediaUrl": [f"https://example.com/{n}.png" for n in range(11)]}, 400),
        ({"ValidityPeriod": "soon"}, 400),
        ({"SmartEncoded": "maybe"}, 400),
    ],
    ids=[
        "no-to",
        "blank-to",
        "to-not-e164",
        "to-whatsapp",
        "no-from",
        "from-not-the-accounts",
        "service-sid-malformed",
        "service-not-the-accounts",
        "no-body",
        "body-1601-chars",
        "body-1602-utf16-units",
        "eleven-media-urls",
        "integer-field-not-an-integer",
        "boolean-field-not-a-boolean",
    ],
)
def test_an_invalid_send_is_refused_with_its_twilio_code_and_stores_nothing(
    sandbox: TwilioSandbox, client: httpx.Client, change: dict[str, Any], code: int
) -> None:
    refused(send(client, **change), 400, code)
    assert sandbox.state.outbound == [] and sandbox.state.messages == {}
    assert sandbox.state.errors == {code: 1}


def test_bodies_at_the_limit_and_media_without_a_body_are_accepted(
    sandbox: TwilioSandbox, client: httpx.Client
) -> None:
    ok(sandbox, send(client, Body="a" * 1600), "CreateMessage", 201)
    ok(sandbox, send(client, Body="😀" * 800), "CreateMessage", 201)
    media = ["https://example.com/a.png", "https://example.com/b.png"]
    mms = ok(sandbox, send(client, Body=None, MediaUrl=media), "CreateMessage", 201)
    assert re.fullmatch(r"MM[0-9a-f]{32}", mms["sid"])
    assert (mms["num_media"], mms["num_segments"], mms["body"]) == ("2", "1", "")
    assert sandbox.state.outbound[-1].params["MediaUrl"] == media


@pytest.mark.parametrize(
    ("body", "segments"),
    [
        ("a" * 160, "1"),
        ("a" * 161, "2"),
        ("a" * 306, "2"),
        ("a" * 307, "3"),
        ("€" * 80, "1"),  # an extension character is 2 septets: 160
        ("€" * 81, "2"),
        ("a" * 152 + "€" + "a" * 152, "3"),  # 306 septets, but the € is not split
        ("😀" * 35, "1"),  # an emoji is 2 UCS-2 units: 70
        ("😀" * 36, "2"),
        ("x" * 66 + "😀" + "x" * 66, "3"),  # 134 units, but the pair is not split
        ("a" * 69 + "ą", "1"),  # one non-GSM character makes the whole body UCS-2
        ("a" * 70 + "ą", "2"),
    ],
    ids=[
        "gsm-160",
        "gsm-161",
        "gsm-306",
        "gsm-307",
        "gsm-ext-160-septets",
        "gsm-ext-162-septets",
        "gsm-ext-at-the-boundary",
        "ucs2-70-units",
        "ucs2-72-units",
        "ucs2-pair-at-the-boundary",
        "ucs2-70-chars",
        "ucs2-71-chars",
    ],
)
def test_num_segments_is_counted_as_twilio_bills_gsm7_and_ucs2_bodies(
    sandbox: TwilioSandbox, client: httpx.Client, body: str, segments: str
) -> None:
    created = ok(sandbox, send(client, Body=body), "CreateMessage", 201)
    assert created["num_segments"] == segments
    assert created["body"] == body


# --------------------------------------------------------------------------------- delivery


def test_a_message_goes_queued_sent_delivered_on_the_api_clock(
    client: httpx.Client, clock: FakeClock
) -> None:
    created = send(client).json()
    sid = created["sid"]
    clock.now += SENT / 2
    assert fetch(client, sid)["status"] == "queued"
    clock.now += SENT / 2
    sent = fetch(client, sid)
    assert sent["status"] == "sent"
    born = parsedate_to_datetime(created["date_created"])
    assert (parsedate_to_datetime(sent["date_sent"]) - born).total_seconds() == SENT
    clock.now += DELIVERED  # well past: the change is dated when it was due, not when read
    delivered = fetch(client, sid)
    assert (delivered["status"], delivered["error_code"]) == ("delivered", None)
    assert (parsedate_to_datetime(delivered["date_updated"]) - born).total_seconds() == DELIVERED
    assert delivered["date_sent"] == sent["date_sent"]


def test_configured_numbers_end_undelivered_or_failed_with_their_error_codes(
    client: httpx.Client, clock: FakeClock
) -> None:
    undelivered = send(client, To=UNDELIVERED).json()["sid"]
    failed = send(client, To=FAILED).json()["sid"]
    clock.now += SENT
    assert fetch(client, undelivered)["status"] == "sent"
    never_sent = fetch(client, failed)
    assert (never_sent["status"], never_sent["error_code"], never_sent["date_sent"]) == (
        "failed",
        30006,
        None,
    )
    assert never_sent["error_message"] == "Landline or unreachable carrier"
    clock.now += DELIVERED - SENT
    final = fetch(client, undelivered)
    assert (final["status"], final["error_code"]) == ("undelivered", 30003)
    assert final["error_message"] == "Unreachable destination handset"


def test_a_messaging_service_send_is_accepted_then_gets_a_sender_and_its_segments(
    sandbox: TwilioSandbox, client: httpx.Client, clock: FakeClock
) -> None:
    service = sandbox.state.messaging_service_sid
    created = ok(
        sandbox, send(client, From=None, MessagingServiceSid=service), "CreateMessage", 201
    )
    assert (created["status"], created["from"], created["num_segments"]) == ("accepted", None, "0")
    assert created["messaging_service_sid"] == service
    clock.now += SENT
    sent = fetch(client, created["sid"])
    assert (sent["status"], sent["from"], sent["num_segments"]) == ("sent", SENDER, "1")


# -------------------------------------------------------------------------------- opt-outs


@pytest.mark.parametrize("keyword", sorted(OPT_OUT_KEYWORDS))
def test_an_opt_out_keyword_refuses_later_sends_to_that_number_with_21610(
    sandbox: TwilioSandbox, client: httpx.Client, keyword: str
) -> None:
    sandbox.state.inbound(RECIPIENT, f"  {keyword.lower()}\n")
    assert sandbox.state.opted_out == {RECIPIENT}
    refused(send(client), 400, 21610)
    service = sandbox.state.messaging_service_sid
    refused(send(client, From=SECOND_SENDER), 400, 21610)  # every sender of the service
    refused(send(client, From=None, MessagingServiceSid=service), 400, 21610)
    assert sandbox.state.outbound == []
    assert sandbox.state.errors == {21610: 3}
    assert send(client, To=OTHER).status_code == 201


@pytest.mark.parametrize("keyword", sorted(OPT_IN_KEYWORDS))
def test_an_opt_in_keyword_lets_sends_to_that_number_through_again(
    sandbox: TwilioSandbox, client: httpx.Client, keyword: str
) -> None:
    sandbox.state.inbound(RECIPIENT, "STOP")
    sandbox.state.inbound(RECIPIENT, f" {keyword.capitalize()} ")
    assert sandbox.state.opted_out == set()
    assert send(client).status_code == 201


def test_only_a_single_word_reply_is_a_keyword(
    sandbox: TwilioSandbox, client: httpx.Client
) -> None:
    for text in ("STOP please", "please stop", "STOP!"):
        sandbox.state.inbound(RECIPIENT, text)
    assert sandbox.state.opted_out == set()
    assert send(client).status_code == 201
    assert [m.body for m in sandbox.state.received] == ["STOP please", "please stop", "STOP!"]


def test_the_inbound_route_records_the_text_and_applies_its_keyword(
    sandbox: TwilioSandbox, client: httpx.Client
) -> None:
    stop = client.post(
        "/__sandbox__/inbound", data={"From": RECIPIENT, "Body": "Stop", "To": SECOND_SENDER}
    )
    assert stop.status_code == 201 and stop.json()["opted_out"] is True
    message = stop.json()["message"]
    assert (message["direction"], message["status"]) == ("inbound", "received")
    assert (message["from"], message["to"], message["body"]) == (RECIPIENT, SECOND_SENDER, "Stop")
    assert RFC_2822.match(message["date_sent"])
    refused(send(client), 400, 21610)
    listed_inbound = client.get(MESSAGES, params={"From": RECIPIENT}).json()["messages"]
    assert [m["sid"] for m in listed_inbound] == [message["sid"]]
    start = client.post("/__sandbox__/inbound", data={"From": RECIPIENT, "Body": "unstop"})
    assert start.status_code == 201 and start.json()["opted_out"] is False
    assert start.json()["message"]["to"] == SENDER  # the first sender unless To says otherwise
    assert send(client).status_code == 201


def test_the_inbound_route_refuses_a_sender_or_recipient_that_cannot_be(
    sandbox: TwilioSandbox, client: httpx.Client
) -> None:
    assert client.post("/__sandbox__/inbound", data={"From": "555", "Body": "x"}).status_code == 400
    not_ours = {"From": RECIPIENT, "Body": "STOP", "To": OTHER}
    assert client.post("/__sandbox__/inbound", data=not_ours).status_code == 400
    assert sandbox.state.received == [] and sandbox.state.opted_out == set()


# ------------------------------------------------------------------------- listing, fetching


def test_listing_is_newest_first_and_filters_by_to_from_and_date_sent(
    sandbox: TwilioSandbox, client: httpx.Client, clock: FakeClock
) -> None:
    first = send(client).json()["sid"]
    clock.now += 86_400.0  # the next day
    second = send(client, From=SECOND_SENDER).json()["sid"]
    clock.now += SENT
    queued = send(client, To=OTHER).json()["sid"]  # not sent yet: no date filter matches it
    day1, day2 = sent_on(fetch(client, first)), sent_on(fetch(client, second))
    assert day1 < day2
    page = ok(sandbox, client.get(MESSAGES), "ListMessage", 200)
    assert [m["sid"] for m in page["messages"]] == [queued, second, first]
    assert listed(client, To=OTHER) == [queued]
    assert listed(client, From=SECOND_SENDER) == [second]
    assert listed(client, To=RECIPIENT, From=SENDER) == [first]
    assert listed(client, DateSent=day1) == [first]
    assert listed(client, **{"DateSent<": day1}) == [first]
    assert listed(client, **{"DateSent>": day1}) == [second, first]
    assert listed(client, **{"DateSent>": day2}) == [second]
    exact = fetch(client, second)["date_sent"]  # the spec's examples also send timestamps
    assert listed(client, **{"DateSent>": exact}) == [second]
    refused(client.get(MESSAGES, params={"DateSent": "yesterday"}), 400, 400)


def test_pages_follow_next_and_previous_page_uris_with_the_filters_kept(
    sandbox: TwilioSandbox, client: httpx.Client
) -> None:
    sids = [send(client).json()["sid"] for _ in range(5)]
    send(client, To=OTHER)
    newest_first, seen, pages = sids[::-1], [], []
    uri: str | None = f"{MESSAGES}?To=%2B14155550100&PageSize=2"
    while uri is not None:
        page = ok(sandbox, client.get(uri), "ListMessage", 200)
        pages.append(page)
        seen += [m["sid"] for m in page["messages"]]
        uri = page["next_page_uri"]
    assert seen == newest_first
    assert [(p["page"], p["start"], p["end"], p["page_size"]) for p in pages] == [
        (0, 0, 1, 2),
        (1, 2, 3, 2),
        (2, 4, 4, 2),
    ]
    assert pages[0]["previous_page_uri"] is None
    assert pages[0]["first_page_uri"] == f"{MESSAGES}?To=%2B14155550100&PageSize=2&Page=0"
    assert all("To=%2B14155550100" in p["next_page_uri"] for p in pages[:2])
    back = client.get(pages[2]["previous_page_uri"]).json()
    assert [m["sid"] for m in back["messages"]] == newest_first[2:4]
    assert listed(client, To=RECIPIENT, PageSize=2, Page=1) == newest_first[2:4]
    refused(client.get(MESSAGES, params={"PageToken": "PAnot-a-sid"}), 400, 400)


def test_a_page_holds_50_by_default_and_page_size_is_between_1_and_1000(
    client: httpx.Client,
) -> None:
    for _ in range(51):
        send(client)
    default = client.get(MESSAGES).json()
    assert (len(default["messages"]), default["page_size"]) == (50, 50)
    assert default["next_page_uri"] is not None
    assert len(listed(client, PageSize=1000)) == 51
    for size in (0, 1001):
        assert (
            "PageSize"
            in refused(client.get(MESSAGES, params={"PageSize": size}), 400, 400)["message"]
        )


def test_a_message_is_fetched_by_sid_and_a_missing_one_is_20404(
    sandbox: TwilioSandbox, client: httpx.Client
) -> None:
    created = send(client).json()
    assert ok(sandbox, client.get(created["uri"]), "FetchMessage", 200) == created
    missing = f"{ACCOUNT}/Messages/SM{'0' * 32}.json"
    assert missing in refused(client.get(missing), 404, 20404)["message"]


# ------------------------------------------------------------------------------- rate limit


def test_sends_over_the_cap_are_refused_with_429_code_20429_and_not_accepted(
    clock: FakeClock,
) -> None:
    sandbox = make_sandbox(clock, send_limit=Limit("messages", 3, 1.0))
    with serving(sandbox) as client:
        assert [send(client).status_code for _ in range(3)] == [201, 201, 201]
        throttled = send(client)
        assert refused(throttled, 429, 20429)["message"] == "Too Many Requests"
        assert throttled.headers["Retry-After"] == "1"
        assert len(sandbox.state.outbound) == 3
        assert client.get(MESSAGES).status_code == 200  # reading is not capped
        clock.now += 1.0
        assert send(client).status_code == 201
    assert len(sandbox.state.outbound) == 4


# ----------------------------------------------------------------------------------- faults


@pytest.mark.parametrize(("kind", "code"), [("429", 20429), ("500", 20500), ("503", 20503)])
def test_injected_errors_are_twilio_errors_and_nothing_is_sent(
    sandbox: TwilioSandbox, client: httpx.Client, kind: str, code: int
) -> None:
    sandbox.set_faults(Faults(rate=1.0, kinds=(kind,)))  # type: ignore[arg-type]
    refused(send(client), int(kind), code)
    assert sandbox.state.outbound == []
    assert client.get("/__sandbox__/state").json()["faults"] == {kind: 1}


def test_drop_after_sends_the_message_but_the_client_gets_no_answer(
    sandbox: TwilioSandbox, client: httpx.Client
) -> None:
    sandbox.set_faults(Faults(rate=1.0, kinds=("drop_after",)))
    with pytest.raises((httpx.RemoteProtocolError, httpx.ReadError)):
        send(client)
    sandbox.set_faults(Faults())
    assert [m.to for m in sandbox.state.outbound] == [RECIPIENT]  # a blind retry sends it twice
    assert listed(client) == [sandbox.state.outbound[0].sid]
    assert sandbox.state.faults == {"drop_after": 1}


def test_drop_before_closes_the_connection_and_sends_nothing(
    sandbox: TwilioSandbox, client: httpx.Client
) -> None:
    sandbox.set_faults(Faults(rate=1.0, kinds=("drop_before",)))
    with pytest.raises((httpx.RemoteProtocolError, httpx.ReadError)):
        send(client)
    sandbox.set_faults(Faults())
    assert sandbox.state.outbound == [] and listed(client) == []
    assert sandbox.state.faults == {"drop_before": 1}


def test_a_timeout_sends_the_message_and_answers_too_late(clock: FakeClock) -> None:
    sandbox = make_sandbox(clock, faults=Faults(rate=1.0, kinds=("timeout",), timeout_seconds=0.5))
    with serving(sandbox, timeout=0.1) as client, pytest.raises(httpx.ReadTimeout):
        send(client)
    assert [m.to for m in sandbox.state.outbound] == [RECIPIENT]
    assert sandbox.state.faults == {"timeout": 1}


def test_faults_never_apply_to_the_sandbox_routes(
    sandbox: TwilioSandbox, client: httpx.Client
) -> None:
    sandbox.set_faults(Faults(rate=1.0))
    for _ in range(10):
        assert client.get("/__sandbox__/state").status_code == 200
        inbound = client.post("/__sandbox__/inbound", data={"From": OTHER, "Body": "hi"})
        assert inbound.status_code == 201
    assert sandbox.state.faults == {} and len(sandbox.state.received) == 10


# ------------------------------------------------------------------------------------ state


def test_the_state_route_summarises_what_the_account_holds(
    sandbox: TwilioSandbox, client: httpx.Client
) -> None:
    accepted = send(client).json()
    sandbox.state.inbound(OTHER, "QUIT")
    refused(send(client, To=OTHER), 400, 21610)
    state = client.get("/__sandbox__/state").json()
    assert state["outbound"] == [accepted]
    assert [(m["from"], m["body"], m["direction"]) for m in state["inbound"]] == [
        (OTHER, "QUIT", "inbound")
    ]
    assert state["opted_out"] == [OTHER]
    assert state["requests"] == {"CreateMessage": 2}
    assert state["errors"] == {"21610": 1}
    assert state["faults"] == {}
    assert (state["account_sid"], state["senders"]) == (ACCOUNT_SID, [SENDER, SECOND_SENDER])
    assert state["messaging_service_sid"] == "MG" + ACCOUNT_SID[2:]


# ----------------------------------------------------------------------------- the spec, setup


def test_the_committed_subset_is_exactly_what_extraction_makes_from_twilios_document() -> None:
    committed = SPEC_PATH.read_text(encoding="utf-8")
    document = json.loads(committed)
    assert document[PROVENANCE_KEY]["source_sha256"] == SOURCE_SHA256
    assert sorted(document[PROVENANCE_KEY]["operations"]) == sorted(OPERATIONS)
    for sentences in STATED_LIMITS.values():
        assert all(json.dumps(sentence)[1:-1] in committed for sentence in sentences)
    source = Path(SOURCE)
    if not source.exists():
        return  # the vendor file is not here: the recorded provenance is what we can check
    assert sha256_of(source) == SOURCE_SHA256
    fresh = extract_subset(
        json.loads(source.read_text(encoding="utf-8")),
        OPERATIONS,
        source_sha256=SOURCE_SHA256,
        source=source.name,
    )
    assert render(fresh) == committed, "stale subset: regenerate it with extract_spec"


@pytest.mark.parametrize(
    "options",
    [
        {"account_sid": "AC123"},
        {"auth_token": ""},
        {"senders": ()},
        {"senders": ("5550006",)},
        {"messaging_service_sid": "MGnope"},
        {"sent_seconds": 5.0, "delivered_seconds": 3.0},
        {"undelivered_numbers": (RECIPIENT,), "failed_numbers": (RECIPIENT,)},
    ],
)
def test_an_account_the_real_api_could_not_have_is_refused(options: dict[str, Any]) -> None:
    settings = {"account_sid": ACCOUNT_SID, "auth_token": AUTH_TOKEN} | options
    with pytest.raises(ValueError):
        TwilioSandbox(**settings)
