"""The Messages operations on `TwilioState`: each handler takes a `Call` and returns a `Reply` or
raises `TwilioError`. The caller holds the state's lock, has advanced it, and has checked the
request against the spec (the form against CreateMessageRequest, the query's known parameters).

CreateMessage checks, in this order, each with the code Twilio documents for it: a `To` (21604)
that is E.164 (21211; the sandbox sends SMS only, so no `whatsapp:` addresses), a `From` or
`MessagingServiceSid` (21603) that is the account's (21701 / 21606), a `Body` or `MediaUrl`
(21602), at most ten media URLs (400) and 1,600 characters (21617, counted in UTF-16 units,
so an emoji counts twice), and last a recipient who has not opted out (21610).
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from email.utils import parsedate_to_datetime
from functools import partial
from typing import Any
from urllib.parse import urlencode

from activations.sandbox.twilio.problems import twilio_error
from activations.sandbox.twilio.segments import utf16_length
from activations.sandbox.twilio.spec import DEFAULT_PAGE_SIZE, MAX_BODY_CHARACTERS, MAX_MEDIA_URLS
from activations.sandbox.twilio.state import E164, Message, TwilioState

# ListMessage's filters, in the order its list URIs carry them (as the spec's examples do)
FILTERS = ("To", "From", "DateSent", "DateSent<", "DateSent>")
# "`YYYY-MM-DD` (to find Messages with a specific `sent_date`), `<=YYYY-MM-DD` (... on and
# before a specific date), and `>=YYYY-MM-DD` (... on and after)": the spec, DateSent
DATE_FILTERS: dict[str, Callable[[Any, Any], bool]] = {
    "DateSent": operator.eq,
    "DateSent<": operator.le,
    "DateSent>": operator.ge,
}
NEXT_TOKEN, PREVIOUS_TOKEN = "PA", "PB"  # a page token is one of these and a message sid


@dataclass(frozen=True)
class Call:
    """A checked request: path parameters, known query parameters, typed form and the path."""

    path_params: Mapping[str, str]
    query: Mapping[str, str]
    form: Mapping[str, Any]
    path: str


@dataclass(frozen=True)
class Reply:
    """A successful answer: status and JSON document."""

    status: int
    document: Any


def create_message(state: TwilioState, call: Call) -> Reply:
    """POST Messages.json: 201 and the queued (or accepted) Message."""
    form = call.form
    to = _text(form, "To")
    if not to:
        raise twilio_error(21604)
    if not E164.match(to):
        raise twilio_error(21211, f"Invalid 'To' Phone Number: {to}")
    sender = _sender(state, form)
    body, media = _text(form, "Body"), list(form.get("MediaUrl", ()))
    if not body and not media:
        raise twilio_error(21602)
    if len(media) > MAX_MEDIA_URLS:
        raise twilio_error(400, f"At most {MAX_MEDIA_URLS} MediaUrl parameters per message.")
    if utf16_length(body) > MAX_BODY_CHARACTERS:
        raise twilio_error(21617)
    if to in state.opted_out:
        raise twilio_error(21610)
    return Reply(201, state.document(state.send(to, sender, body, form)))


def fetch_message(state: TwilioState, call: Call) -> Reply:
    """GET Messages/{Sid}.json: the Message, or 20404."""
    message = state.messages.get(call.path_params["Sid"])
    if message is None:
        raise twilio_error(20404, f"The requested resource {call.path} was not found")
    return Reply(200, state.document(message))


def list_messages(state: TwilioState, call: Call) -> Reply:
    """GET Messages.json: newest first, filtered, a page at a time (ListMessageResponse)."""
    query = call.query
    size = int(query.get("PageSize", DEFAULT_PAGE_SIZE))
    page = int(query.get("Page", 0))
    matching = _matching(state, query)
    start = _page_start(matching, query.get("PageToken"), page * size, size)
    items = matching[start : start + size]
    page_uri = partial(
        _page_uri, call.path, [(name, query[name]) for name in FILTERS if name in query], size
    )
    more = bool(items) and start + size < len(matching)
    return Reply(
        200,
        {
            "end": start + max(len(items) - 1, 0),
            "first_page_uri": page_uri(0),
            "messages": [state.document(m) for m in items],
            "next_page_uri": page_uri(page + 1, NEXT_TOKEN + items[-1].sid) if more else None,
            "page": page,
            "page_size": size,
            "previous_page_uri": (
                page_uri(max(page - 1, 0), PREVIOUS_TOKEN + items[0].sid)
                if items and start > 0
                else None
            ),
            "start": start,
            "uri": page_uri(page, query.get("PageToken")),
        },
    )


HANDLERS: dict[str, Callable[[TwilioState, Call], Reply]] = {
    "CreateMessage": create_message,
    "ListMessage": list_messages,
    "FetchMessage": fetch_message,
}


def _text(form: Mapping[str, Any], name: str) -> str:
    """A string parameter exactly as sent ("" when absent)."""
    value = form.get(name, "")
    return value if isinstance(value, str) else ""


def _sender(state: TwilioState, form: Mapping[str, Any]) -> str | None:
    """The `From` number, or None for the Messaging Service to choose one."""
    sender, service = _text(form, "From"), _text(form, "MessagingServiceSid")
    if not sender and not service:
        raise twilio_error(21603)
    if service and service != state.messaging_service_sid:
        raise twilio_error(21701, f"The Messaging Service {service} does not exist")
    if sender and sender not in state.senders:
        raise twilio_error(
            21606,
            f"The From phone number {sender} is not a valid, SMS-capable inbound phone number "
            "or short code for your account.",
        )
    return sender or None


def _matching(state: TwilioState, query: Mapping[str, str]) -> list[Message]:
    """The messages the To, From and DateSent filters let through, newest first."""
    dates = [
        (compare, _when(name, query[name]))
        for name, compare in DATE_FILTERS.items()
        if name in query
    ]
    return [
        m
        for m in reversed(state.messages.values())
        if query.get("To", m.to) == m.to
        and query.get("From", m.sender) == m.sender
        and all(_sent_within(state, m, compare, bound) for compare, bound in dates)
    ]


def _page_uri(
    path: str, filters: Sequence[tuple[str, str]], size: int, number: int, token: str | None = None
) -> str:
    """A list page's URI as Twilio writes it: the filters, PageSize, Page, then PageToken."""
    params = [*filters, ("PageSize", str(size)), ("Page", str(number))]
    return f"{path}?{urlencode([*params, *([('PageToken', token)] if token else [])])}"


def _when(name: str, text: str) -> date:
    """A DateSent bound: `YYYY-MM-DD` as the spec describes, or a full timestamp (a datetime:
    ISO 8601 or RFC 2822, GMT unless it says otherwise) as the spec's examples also send."""
    try:
        return date.fromisoformat(text)
    except ValueError:
        pass
    for parse in (datetime.fromisoformat, parsedate_to_datetime):
        try:
            parsed = parse(text)
        except (TypeError, ValueError):
            continue
        return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)
    raise twilio_error(400, f"Invalid {name} {text!r}: expected a GMT date as YYYY-MM-DD.")


def _sent_within(
    state: TwilioState, message: Message, compare: Callable[[Any, Any], bool], bound: date
) -> bool:
    """Whether the message was sent on (or, for a timestamp bound, at) a matching instant; one
    not sent yet matches no date filter."""
    if message.sent_at is None:
        return False
    sent = state.clock.datetime_at(message.sent_at)
    return compare(sent, bound) if isinstance(bound, datetime) else compare(sent.date(), bound)


def _page_start(matching: Sequence[Message], token: str | None, offset: int, size: int) -> int:
    """Where the page starts: after (PA) or a page before (PB) the token's message, else at the
    `Page` offset."""
    if token is None:
        return offset
    sids = [m.sid for m in matching]
    kind, sid = token[:2], token[2:]
    if kind in (NEXT_TOKEN, PREVIOUS_TOKEN) and sid in sids:
        at = sids.index(sid)
        return at + 1 if kind == NEXT_TOKEN else max(at - size, 0)
    raise twilio_error(400, f"Invalid PageToken {token!r}: use a page URI this list returned.")
