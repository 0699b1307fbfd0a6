"""The operations' logic on `OmnisendState`: each handler takes a `Call` and returns a `Reply`
or raises `Problem`. The caller holds the state's lock and has already validated the request
against the spec (body schema, query parameters)."""

from __future__ import annotations

import base64
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from activations.sandbox.omnisend.problems import Problem, invalid
from activations.sandbox.omnisend.spec import MAX_BATCH_ITEMS
from activations.sandbox.omnisend.state import CONTACT_FIELDS, Batch, Contact, OmnisendState

E164 = re.compile(r"^\+[1-9]\d{1,14}$")
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
CHANNEL_OF = {"email": "email", "phone": "sms"}
DEFAULT_PAGE = 100


@dataclass(frozen=True)
class Call:
    """A validated request: path parameters, query and parsed body."""

    path_params: Mapping[str, str]
    query: Mapping[str, str]
    body: Any


@dataclass(frozen=True)
class Reply:
    """A successful answer: status and JSON document (None for an empty body)."""

    status: int
    document: Any = None


# ------------------------------------------------------------------------------ contacts


def upsert_contact(state: OmnisendState, body: Mapping[str, Any]) -> tuple[int, dict[str, Any]]:
    """Create a contact or update the one its email (else phone) identifies: (201|200, body)."""
    identifiers = _identifiers(body.get("identifiers") or [])
    email = next((i["id"] for i in identifiers if i["type"] == "email"), None)
    phone = next((i["id"] for i in identifiers if i["type"] == "phone"), None)
    contact = state.find(email, phone)
    for kind, value, index in (("email", email, state.by_email), ("phone", phone, state.by_phone)):
        owner = index.get(value.lower() if kind == "email" else value) if value else None
        if owner is not None and (contact is None or owner != contact.id):
            raise Problem(409, f"The {kind} identifier {value} belongs to another contact.")
    created = contact is None
    now = state.timestamp()
    if contact is None:
        contact = Contact(state.new_id(), now, now)
        state.contacts[contact.id] = contact
    for given in identifiers:  # stored as given; what an update omits (channels) is kept
        same = [i for i in contact.identifiers if i["type"] == given["type"]]
        kept = [i for i in contact.identifiers if i["type"] != given["type"]]
        merged = {**same[0], **given} if same and _same_id(same[0], given) else given
        contact.identifiers = [*kept, merged]
    contact.fields.update({k: body[k] for k in CONTACT_FIELDS if k in body})
    if "tags" in body:  # writing tags replaces them (NOTES.md)
        contact.tags = list(dict.fromkeys(body["tags"]))
    contact.updated_at = now
    state.index(contact)
    return (201 if created else 200), contact_document(contact)


def contact_document(contact: Contact) -> dict[str, Any]:
    """A ContactResponse."""
    document: dict[str, Any] = {
        "id": contact.id,
        "createdAt": contact.created_at,
        "updatedAt": contact.updated_at,
        "identifiers": [
            {"type": i["type"], "id": i["id"], "channels": i.get("channels", {})}
            for i in contact.identifiers
        ],
        "tags": list(contact.tags),
        "consents": [
            {"channel": CHANNEL_OF[i["type"]], **i["consent"]}
            for i in contact.identifiers
            if "consent" in i
        ],
        **contact.fields,
    }
    email, phone = contact.identifier("email"), contact.identifier("phone")
    if email is not None:
        document["email"] = email
    if phone is not None:
        document["phone"] = [phone]  # an array in ContactResponse
    statuses = [
        {"channel": channel, **status}
        for identifier in contact.identifiers
        for channel, status in identifier.get("channels", {}).items()
    ]
    document["statuses"] = statuses
    email_status = next((s["status"] for s in statuses if s["channel"] == "email"), None)
    if email_status is not None:
        document["status"] = email_status
    return document


def create_contact(state: OmnisendState, call: Call) -> Reply:
    """POST /contacts."""
    status, document = upsert_contact(state, call.body)
    return Reply(status, document)


def get_contact(state: OmnisendState, call: Call) -> Reply:
    """GET /contacts/{id}."""
    contact = state.contacts.get(call.path_params["id"])
    if contact is None:
        raise Problem(404, f"Contact {call.path_params['id']} was not found.")
    return Reply(200, contact_document(contact))


def list_contacts(state: OmnisendState, call: Call) -> Reply:
    """GET /contacts with the email, phone, tag and status filters and `after` cursors."""
    query = call.query
    if "tag" in query and "status" in query:
        raise invalid("tag", "invalid_combination", "tag and status cannot be used together")
    if "updatedAtFrom" in query and {"email", "phone", "status", "segmentID", "tag"} & set(query):
        raise invalid("updatedAtFrom", "invalid_combination", "cannot be combined with filters")
    contacts = sorted(
        state.contacts.values(),
        key=lambda c: getattr(
            c, "updated_at" if query.get("sort") == "updatedAt" else "created_at"
        ),
        reverse=query.get("direction", "desc") == "desc",
    )
    if "email" in query:
        contacts = [
            c for c in contacts if (c.identifier("email") or "").lower() == query["email"].lower()
        ]
    if "phone" in query:
        contacts = [c for c in contacts if c.identifier("phone") == query["phone"]]
    if "tag" in query:
        contacts = [c for c in contacts if query["tag"] in c.tags]
    if "status" in query:
        contacts = [c for c in contacts if query["status"] in _statuses(c)]
    if "segmentID" in query:
        contacts = []  # the sandbox has no segments
    start = _cursor(query["after"]) if "after" in query else 0
    limit = int(query.get("limit", DEFAULT_PAGE))
    page = contacts[start : start + limit]
    more = start + limit < len(contacts)
    cursors = {
        "after": _encode(start + limit) if more else None,
        "before": _encode(max(start - limit, 0)) if start else None,
    }
    return Reply(
        200,
        {
            "contacts": [contact_document(c) for c in page],
            "paging": {"cursors": cursors, "hasMore": more, "limit": limit},
        },
    )


def add_tags(state: OmnisendState, call: Call) -> Reply:
    """POST /contacts/tags: accepted now, applied later; unmatched addresses ignored."""
    return _tag_change(state, call, add=True)


def remove_tags(state: OmnisendState, call: Call) -> Reply:
    """DELETE /contacts/tags."""
    return _tag_change(state, call, add=False)


# -------------------------------------------------------------------------------- events


def create_event(state: OmnisendState, call: Call) -> Reply:
    """POST /events: 202, stored unless it is a historical duplicate."""
    record_event(state, call.body)
    return Reply(202)


def record_event(state: OmnisendState, body: Mapping[str, Any]) -> bool:
    """Check an EventRequest's rules the schema leaves to prose, then store it."""
    if not body.get("eventName"):
        raise invalid("eventName", "required", "eventName is required")
    contact = body.get("contact") or {}
    if not (contact.get("email") or contact.get("phone") or contact.get("id")):
        raise invalid("contact", "required", "the contact needs an email, phone or id")
    event_time = _event_time(body.get("eventTime"))
    if contact.get("email") or contact.get("phone"):
        # "contact will be created or updated based on the data provided here" (the spec); by
        # its email, else its phone, so an event never meets another contact's identifier
        kind = "email" if contact.get("email") else "phone"
        fields = {k: contact[k] for k in CONTACT_FIELDS if k in contact}
        if kind == "phone" and not E164.match(contact["phone"]):
            raise invalid("contact.phone", "invalid_format", "not an E.164 number")
        if kind == "email" and not EMAIL.match(contact["email"]):
            raise invalid("contact.email", "invalid_format", "not a valid email")
        upsert_contact(state, {"identifiers": [{"type": kind, "id": contact[kind]}], **fields})
    return state.record_event(dict(body), event_time)


# ------------------------------------------------------------------------------- batches


def create_batch(state: OmnisendState, call: Call) -> Reply:
    """POST /batches: 201 {batchID, totalCount}; the items are processed asynchronously."""
    body = call.body
    if body["endpoint"] not in ("contacts", "events"):
        raise invalid("endpoint", "unsupported", "the sandbox serves contacts and events batches")
    if len(body["items"]) > MAX_BATCH_ITEMS:  # also `maxItems` in the schema
        raise invalid("items", "max_items", f"at most {MAX_BATCH_ITEMS} items per batch")
    batch = state.add_batch(
        body["method"], body["endpoint"], body.get("origin", "api"), list(body["items"])
    )
    return Reply(201, {"batchID": batch.id, "totalCount": len(batch.items)})


def get_batch(state: OmnisendState, call: Call) -> Reply:
    """GET /batches/{batchID}: status and counts."""
    return Reply(200, batch_document(state, _batch(state, call)))


def get_batch_items(state: OmnisendState, call: Call) -> Reply:
    """GET /batches/{batchID}/items: every item's request and result in `responses`, the failed
    ones also in `errors` (empty while the batch is in progress)."""
    batch = _batch(state, call)
    document = batch_document(state, batch)
    results = batch.results or []
    items = [
        {
            "itemID": r.item_id,
            "request": r.request,
            "response": r.response,
            "responseCode": r.response_code,
            "status": "finished" if r.response_code < 400 else "failed",
        }
        for r in results
    ]
    document["responses"] = items
    document["errors"] = [item for item in items if item["responseCode"] >= 400]
    return Reply(200, document)


def list_batches(state: OmnisendState, call: Call) -> Reply:
    """GET /batches?endpoint=...: newest first, offset paging; `dateFrom` and `dateTo`
    (yyyy-mm-dd, inclusive, UTC) bound the day a batch was created on."""
    query = call.query
    days = {bound: _day(bound, query[bound]) for bound in ("dateFrom", "dateTo") if bound in query}
    batches = [
        b
        for b in sorted(state.batches.values(), key=lambda b: b.created_at, reverse=True)
        if b.endpoint == query["endpoint"]
        and ("status" not in query or _status(b) == query["status"])
        and days.get("dateFrom", date.min) <= _created_on(state, b) <= days.get("dateTo", date.max)
    ]
    offset, limit = int(query.get("offset", 0)), int(query.get("limit", DEFAULT_PAGE))
    return Reply(
        200,
        {
            "batches": [batch_document(state, b) for b in batches[offset : offset + limit]],
            "paging": {"offset": offset, "limit": limit},
        },
    )


def _day(name: str, text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise invalid(name, "invalid_format", "expected a date as yyyy-mm-dd") from None


def _created_on(state: OmnisendState, batch: Batch) -> date:
    return state.clock.datetime_at(batch.created_at).date()


def batch_document(state: OmnisendState, batch: Batch) -> dict[str, Any]:
    """A Batch (without its items)."""
    results = batch.results or []
    document: dict[str, Any] = {
        "batchID": batch.id,
        "method": batch.method,
        "endpoint": batch.endpoint,
        "origin": batch.origin,
        "status": _status(batch),
        "totalCount": len(batch.items),
        "finishedCount": len(results),
        "errorsCount": sum(1 for r in results if r.response_code >= 400),
        "createdAt": state.timestamp(batch.created_at),
        "startedAt": state.timestamp(batch.created_at),
    }
    if batch.ended_at is not None:
        document["endedAt"] = state.timestamp(batch.ended_at)
    return document


HANDLERS: dict[str, Callable[[OmnisendState, Call], Reply]] = {
    "GET /contacts": list_contacts,
    "POST /contacts": create_contact,
    "GET /contacts/{id}": get_contact,
    "POST /contacts/tags": add_tags,
    "DELETE /contacts/tags": remove_tags,
    "POST /events": create_event,
    "GET /batches": list_batches,
    "POST /batches": create_batch,
    "GET /batches/{batchID}": get_batch,
    "GET /batches/{batchID}/items": get_batch_items,
}


# ------------------------------------------------------------------------------- helpers


def _identifiers(given: list[dict[str, Any]]) -> list[dict[str, Any]]:
    if not given:
        raise invalid("identifiers", "required", "at least one email or phone identifier")
    seen: set[str] = set()
    for index, identifier in enumerate(given):
        kind, value = identifier["type"], identifier["id"]
        if kind in seen:
            raise invalid(f"identifiers.{index}.type", "duplicate", f"more than one {kind}")
        seen.add(kind)
        if kind == "email" and not EMAIL.match(value):
            raise invalid(f"identifiers.{index}.id", "invalid_format", "not a valid email")
        if kind == "phone" and not E164.match(value):
            raise invalid(f"identifiers.{index}.id", "invalid_format", "not an E.164 number")
    return [dict(identifier) for identifier in given]


def _same_id(stored: Mapping[str, Any], given: Mapping[str, Any]) -> bool:
    if given["type"] == "email":
        return bool(stored["id"].lower() == given["id"].lower())
    return bool(stored["id"] == given["id"])


def _statuses(contact: Contact) -> set[str]:
    return {
        channel.get("status", "")
        for identifier in contact.identifiers
        for channel in identifier.get("channels", {}).values()
    }


def _tag_change(state: OmnisendState, call: Call, *, add: bool) -> Reply:
    body = call.body
    selectors = {k: body[k] for k in ("contactIDs", "emails", "phones") if k in body}
    if not selectors and "segmentID" not in body:
        raise invalid("contactIDs", "required", "one of contactIDs, emails, phones, segmentID")
    state.add_tag_change(add, body["tags"], selectors)
    return Reply(202)


def _event_time(text: Any) -> datetime | None:
    if text is None:
        return None
    try:
        parsed = datetime.fromisoformat(str(text))
    except ValueError:
        raise invalid("eventTime", "invalid_format", "not an ISO 8601 timestamp") from None
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)


def _batch(state: OmnisendState, call: Call) -> Batch:
    batch = state.batches.get(call.path_params["batchID"])
    if batch is None:
        raise Problem(404, f"Batch {call.path_params['batchID']} was not found.")
    return batch


def _status(batch: Batch) -> str:
    return "finished" if batch.results is not None else "inProgress"


def _encode(offset: int) -> str:
    return base64.urlsafe_b64encode(f"o:{offset}".encode()).decode()


def _cursor(text: str) -> int:
    try:
        kind, _, number = base64.urlsafe_b64decode(text.encode()).decode().partition(":")
        if kind == "o" and number.isdigit():
            return int(number)
    except ValueError:
        pass
    raise invalid("after", "invalid_cursor", "not a cursor this API returned")
