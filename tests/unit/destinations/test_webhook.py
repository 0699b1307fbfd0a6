"""The webhook's signatures, receiver settings and batch ids: what a partner relies on to trust a
delivery and to deduplicate one that arrives twice."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from activations.destinations.options import DestinationOptionsError, parse_options
from activations.destinations.webhook import (
    Receiver,
    WebhookConfigError,
    WebhookOptions,
    _event_batches,
    _membership_batches,
    batch_body,
    receiver_env,
)
from activations.rows import Event, Member, Operation, PlanRow, SegmentWork
from activations.webhook_signature import SignatureError, signature_header, verify

REPO = Path(__file__).resolve().parents[3]
SECRET = "s3cret-shared-with-the-partner"
NOW = 1_733_350_000
OPTIONS = parse_options(WebhookOptions, "vip", {"url_env": "HOOK_URL", "secret_env": "HOOK_KEY"})


def docs_verifier() -> Callable[..., bool]:
    """The receiver snippet from docs/destinations/webhook.md, run as a partner would paste it."""
    text = (REPO / "docs" / "destinations" / "webhook.md").read_text(encoding="utf-8")
    (code,) = [b for b in re.findall(r"```python\n(.*?)```", text, re.S) if "def verify_" in b]
    scope: dict[str, Any] = {}
    exec(compile(code, "webhook.md", "exec"), scope)  # noqa: S102 - our own documentation
    return scope["verify_cohortflow"]  # type: ignore[no-any-return]


def test_a_signed_body_verifies_and_a_tampered_one_does_not() -> None:
    body = b'{"batch_id":"wh_1","records":[]}'
    header = signature_header([SECRET], NOW, body)
    assert verify(SECRET, header, body, now=NOW) == NOW
    with pytest.raises(SignatureError, match="does not match"):
        verify(SECRET, header, body.replace(b"wh_1", b"wh_2"), now=NOW)
    with pytest.raises(SignatureError, match="does not match"):
        verify("another-secret-entirely", header, body, now=NOW)


def test_an_old_or_future_timestamp_is_refused_even_when_correctly_signed() -> None:
    body = b"{}"
    header = signature_header([SECRET], NOW, body)
    assert verify(SECRET, header, body, now=NOW + 300) == NOW
    for now in (NOW + 301, NOW - 301):
        with pytest.raises(SignatureError, match="replayed or delayed"):
            verify(SECRET, header, body, now=now)


def test_a_rotation_header_is_accepted_on_either_secret() -> None:
    body = b"{}"
    header = signature_header(["old-secret-being-rotated", SECRET], NOW, body)
    assert header.count("v1=") == 2
    assert verify(SECRET, header, body, now=NOW) == NOW
    assert verify("old-secret-being-rotated", header, body, now=NOW) == NOW


@pytest.mark.parametrize("header", [None, "", "v1=abc", "t=123", "t=abc,v1=def", "nonsense"])
def test_a_missing_or_malformed_header_is_refused(header: str | None) -> None:
    with pytest.raises(SignatureError):
        verify(SECRET, header, b"{}", now=NOW)


@pytest.mark.parametrize(
    "header",
    [
        "t=\u00b2,v1=" + "a" * 64,
        "t=" + "9" * 5000 + ",v1=" + "a" * 64,
        "t=1,v1=\u00e9",
        "t=1,t=2,v1=ab",
    ],
)
def test_hostile_headers_are_refused_by_verify_and_by_the_snippet_not_crashed_on(
    header: str,
) -> None:
    with pytest.raises(SignatureError, match="malformed"):
        verify(SECRET, header, b"{}", now=NOW)
    assert docs_verifier()(SECRET, header, b"{}", now=NOW) is False


@settings(max_examples=150, deadline=None)
@given(
    body=st.binary(max_size=200),
    offset=st.integers(min_value=-400, max_value=400),
    tamper=st.booleans(),
    secret=st.sampled_from([SECRET, "a-different-secret-value"]),
)
def test_the_documented_receiver_snippet_agrees_with_verify(
    body: bytes, offset: int, tamper: bool, secret: str
) -> None:
    header = signature_header([SECRET], NOW, body)
    received = body + b" " if tamper else body
    try:
        verify(secret, header, received, now=NOW + offset)
        expected = True
    except SignatureError:
        expected = False
    assert docs_verifier()(secret, header, received, now=NOW + offset) is expected
    assert expected is (secret == SECRET and not tamper and abs(offset) <= 300)


def test_the_receiver_comes_from_the_variables_the_segment_names() -> None:
    url = "https://partner.example/in/tok%2F123?key=abc12345"
    receiver = Receiver.from_env({"HOOK_URL": f" {url} ", "HOOK_KEY": SECRET}, "vip", OPTIONS)
    assert receiver.url == url and [str(s) for s in receiver.secrets] == ["***"]
    assert SECRET not in repr(receiver) and "tok" not in repr(receiver)
    # What logs must not show: the secret, and the URL's path and query (receivers' tokens),
    # also percent-decoded, as httpx logs them.
    assert set(receiver.redacted) == {SECRET, "/in/tok%2F123", "/in/tok/123", "key=abc12345"}
    short = Receiver.from_env(
        {"HOOK_URL": "https://p.example/in", "HOOK_KEY": SECRET}, "v", OPTIONS
    )
    assert short.redacted == [SECRET], "a path too short for a token stays readable"
    assert receiver_env({"url_env": "HOOK_URL", "secret_env": "HOOK_KEY"}) == (
        "HOOK_URL",
        "HOOK_KEY",
    )


@pytest.mark.parametrize(
    ("environ", "message"),
    [
        ({}, "HOOK_URL and HOOK_KEY not set"),
        ({"HOOK_URL": "https://partner.example/in"}, "HOOK_KEY not set"),
        ({"HOOK_URL": "http://partner.example/in", "HOOK_KEY": SECRET}, "must be an absolute"),
        ({"HOOK_URL": "partner.example/in", "HOOK_KEY": SECRET}, "must be an absolute"),
        ({"HOOK_URL": "https://partner.example/in", "HOOK_KEY": "short"}, "at least 16"),
        ({"HOOK_URL": "https://p.example/in", "HOOK_KEY": f"{SECRET} x"}, "at least 16"),
        ({"HOOK_URL": "https://p.example/in", "HOOK_KEY": f"{SECRET} " * 3}, "two separated"),
    ],
)
def test_an_unusable_receiver_is_refused_naming_the_segment(
    environ: dict[str, str], message: str
) -> None:
    with pytest.raises(WebhookConfigError, match=message) as refused:
        Receiver.from_env(environ, "vip", OPTIONS)
    assert str(refused.value).startswith("segment vip:")
    assert SECRET not in str(refused.value)


def test_a_secret_being_rotated_is_two_and_both_sign() -> None:
    environ = {"HOOK_URL": "https://p.example/in", "HOOK_KEY": f"{SECRET} old-secret-being-rotated"}
    receiver = Receiver.from_env(environ, "vip", OPTIONS)
    assert [s.reveal() for s in receiver.secrets] == [SECRET, "old-secret-being-rotated"]


def test_plain_http_is_allowed_to_this_machine_only() -> None:
    for host in ("localhost", "127.0.0.1"):
        environ = {"HOOK_URL": f"http://{host}:8080/hooks/vip", "HOOK_KEY": SECRET}
        assert Receiver.from_env(environ, "vip", OPTIONS).url.startswith("http://")


@pytest.mark.parametrize(
    "block",
    [
        {"url_env": "HOOK_URL"},
        {"url_env": "https://partner.example", "secret_env": "HOOK_KEY"},
        {"url_env": "HOOK_URL", "secret_env": "HOOK_KEY", "batch_size": 0},
        {"url_env": "HOOK_URL", "secret_env": "HOOK_KEY", "url": "https://partner.example"},
    ],
)
def test_options_name_variables_never_values(block: dict[str, Any]) -> None:
    with pytest.raises(DestinationOptionsError, match="segment vip"):
        parse_options(WebhookOptions, "vip", block)


def member(n: int, traits_hash: str = "h") -> Member:
    return Member(f"p{n}@example.com", f"p{n}", traits_hash, f"p{n}@example.com", None, {"n": n})


def work(run_id: str | None = "r1") -> SegmentWork:
    return SegmentWork("vip", {}, "email", [], [], [], [], run_id=run_id)


def batches(rows: list[tuple[PlanRow | Member, Operation]], size: int) -> list[tuple[str, bytes]]:
    return [
        batch_body("vip", "email", "membership", [record for _, _, record in batch])
        for batch in _membership_batches(work(), rows, size)
    ]


@settings(max_examples=60, deadline=None)
@given(st.permutations(list(range(12))), st.integers(min_value=1, max_value=12))
def test_the_same_rows_make_the_same_batches_in_any_order(order: list[int], size: int) -> None:
    rows: list[tuple[PlanRow | Member, Operation]] = [(member(n), "add") for n in range(12)]
    shuffled = [rows[n] for n in order]
    assert batches(shuffled, size) == batches(rows, size)
    ids = [identifier for identifier, _ in batches(rows, size)]
    assert len(set(ids)) == len(ids) == -(-12 // size)


def test_a_record_id_changes_with_what_the_receiver_would_apply() -> None:
    def record(row: PlanRow | Member, operation: Operation, run: str = "r1") -> dict[str, Any]:
        (batch,) = _membership_batches(work(run), [(row, operation)], 10)
        return batch[0][2]

    add = record(member(1), "add")
    assert add["id"] == record(member(1), "add")["id"], "a re-send is the same record"
    assert add["id"] != record(member(1), "update")["id"]
    assert add["id"] != record(member(1, traits_hash="other"), "add")["id"]
    # Left and came back with the same traits: a new change, which a receiver must not drop.
    assert add["id"] != record(member(1), "add", run="r3")["id"]
    remove = record(PlanRow("p1@example.com", "p1", "h"), "remove")
    assert remove == {
        "id": remove["id"],
        "run_id": "r1",
        "operation": "remove",
        "person_id": "p1",
        "key": "p1@example.com",
    }
    assert add["traits"] == {"n": 1} and add["email"] == "p1@example.com"


def test_a_batch_body_is_compact_json_naming_its_own_id() -> None:
    identifier, body = batch_body("vip", "email", "membership", [{"id": "a"}, {"id": "b"}])
    payload = json.loads(body)
    assert payload == {
        "batch_id": identifier,
        "segment": "vip",
        "keyed_by": "email",
        "type": "membership",
        "records": [{"id": "a"}, {"id": "b"}],
    }
    assert b": " not in body and identifier.startswith("wh_")
    assert batch_body("vip", "email", "events", [{"id": "a"}, {"id": "b"}])[0] != identifier


def event(n: int, sent_at: datetime | None = None) -> Event:
    when = datetime(2026, 12, 1, 12, 0)
    return Event(f"e{n}", "entered", "r1", when, f"p{n}", f"p{n}@example.com", None, {}, sent_at)


def test_events_in_doubt_are_sent_again_as_the_batches_they_were_sent_in() -> None:
    first, second = datetime(2026, 12, 1, 9), datetime(2026, 12, 1, 10)
    events = [event(5), event(1, second), event(3), event(2, first), event(4, first), event(0)]
    grouped = [[e.event_id for e in batch] for batch in _event_batches(events, size=2)]
    assert grouped == [["e2", "e4"], ["e1"], ["e0", "e3"], ["e5"]]
    late = [event(9, first + timedelta(seconds=1))]
    assert [[e.event_id for e in b] for b in _event_batches(late, 2)] == [["e9"]]
