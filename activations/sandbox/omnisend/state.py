"""What the Omnisend sandbox's brand holds: contacts, their tags, events, batches; inspectable.

Sandbox choices where the documents are silent (each a rule a client can rely on here):
- POST /contacts matches an existing contact by its email identifier (case-insensitively, as the
  spec says); a request with only a phone identifier matches by phone. An identifier that already
  belongs to another contact is a 409 (the documented answer of the PATCH routes).
- Batches are "inProgress" from creation until `batch_seconds` API seconds have passed, then
  "finished"; their items are applied in order at that moment. Tag requests are applied
  `tag_seconds` API seconds after they were accepted.
- An event is historical when its `eventTime` is more than `HISTORICAL_AGE` before it arrived;
  only historical events are deduplicated on (eventID, eventTime).
"""

from __future__ import annotations

import random
import threading
import time
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from activations.sandbox.limits import ApiClock

HISTORICAL_AGE = timedelta(hours=1)
CONTACT_FIELDS = (
    "firstName",
    "lastName",
    "address",
    "city",
    "state",
    "postalCode",
    "country",
    "countryCode",
    "birthdate",
    "gender",
    "customProperties",
)


@dataclass
class Contact:
    """A contact as stored: identifiers and consent exactly as given, tags as a set in order."""

    id: str
    created_at: str
    updated_at: str
    fields: dict[str, Any] = field(default_factory=dict)
    identifiers: list[dict[str, Any]] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)

    def identifier(self, kind: str) -> str | None:
        """The contact's email or phone."""
        return next((i["id"] for i in self.identifiers if i["type"] == kind), None)


@dataclass
class StoredEvent:
    """An event as received (its request body), when, whether it was a historical one, and
    whether it was dropped as a historical duplicate."""

    body: dict[str, Any]
    received_at: str
    historical: bool
    duplicate: bool = False


@dataclass
class BatchItemResult:
    """One batch item after processing: its request echoed, the response and its code."""

    item_id: str
    request: Any
    response_code: int
    response: Any


@dataclass
class Batch:
    """A batch: its request, when it is due (API seconds) and, once finished, its item results."""

    id: str
    method: str
    endpoint: str
    origin: str
    items: list[Any]
    created_at: float
    due_at: float
    results: list[BatchItemResult] | None = None
    ended_at: float | None = None


@dataclass
class TagChange:
    """An accepted POST/DELETE /contacts/tags, applied at `due_at`."""

    add: bool
    tags: list[str]
    contact_ids: list[str]
    emails: list[str]
    phones: list[str]
    due_at: float


class OmnisendState:
    """The brand's data. Callers hold `lock` and call `advance` before reading or writing.

    Args:
        clock: the API clock (batch and tag delays are API seconds on it).
        seed: seeds contact and batch ids.
        batch_seconds: API seconds a batch takes before it is finished.
        tag_seconds: API seconds before an accepted tag change is applied.
        item_fails: whether the next batch item fails retryably (fault injection).
    """

    def __init__(
        self,
        clock: ApiClock,
        seed: int,
        *,
        batch_seconds: float,
        tag_seconds: float,
        item_fails: Callable[[], bool],
    ) -> None:
        self.clock = clock
        self.lock = threading.RLock()
        self.batch_seconds = batch_seconds
        self.tag_seconds = tag_seconds
        self.item_fails = item_fails
        self._ids = random.Random(f"omnisend-ids:{seed}")
        self.contacts: dict[str, Contact] = {}
        self.by_email: dict[str, str] = {}
        self.by_phone: dict[str, str] = {}
        # Every event received, in order, the dropped historical duplicates included: a test
        # of "exactly one event per change" counts what was sent, not what Omnisend kept.
        self.received_events: list[StoredEvent] = []
        self._event_keys: set[tuple[str, str]] = set()
        self.batches: dict[str, Batch] = {}
        self.tag_changes: list[TagChange] = []
        self.requests = 0
        self.faults: Counter[str] = Counter()  # injected faults by kind
        # Set by the app: applies one batch item (endpoint, method, item) -> (code, response).
        self.apply_item: Callable[[str, str, Any], tuple[int, Any]] | None = None

    def new_id(self) -> str:
        """A 24-hex-digit id, the shape of Omnisend's ids."""
        return f"{self._ids.getrandbits(96):024x}"

    def timestamp(self, api_seconds: float | None = None) -> str:
        """RFC 3339 UTC timestamp of an API instant (default: now)."""
        at = self.clock.now() if api_seconds is None else api_seconds
        return self.clock.datetime_at(at).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"

    def now_datetime(self) -> datetime:
        """The current API instant as a UTC datetime."""
        return self.clock.datetime_at(self.clock.now())

    def advance(self) -> None:
        """Finish the batches and apply the tag changes that are due."""
        now = self.clock.now()
        for change in [c for c in self.tag_changes if c.due_at <= now]:
            self.tag_changes.remove(change)
            self._apply_tags(change)
        for batch in sorted(self.batches.values(), key=lambda b: b.created_at):
            if batch.results is None and batch.due_at <= now:
                self._finish(batch)

    def settle(self, timeout: float) -> bool:
        """Wait (at most `timeout` wall seconds) until every accepted batch is finished and
        every tag change applied, as a test or benchmark must before reading what the brand
        holds; False if some were still pending at the timeout."""
        deadline = time.monotonic() + timeout
        while True:
            with self.lock:
                self.advance()
                busy = bool(self.tag_changes) or any(
                    b.results is None for b in self.batches.values()
                )
            if not busy:
                return True
            if time.monotonic() > deadline:
                return False
            time.sleep(0.01)

    def find(self, email: str | None, phone: str | None) -> Contact | None:
        """The contact with this email, else with this phone."""
        if email is not None and email.lower() in self.by_email:
            return self.contacts[self.by_email[email.lower()]]
        if email is None and phone is not None and phone in self.by_phone:
            return self.contacts[self.by_phone[phone]]
        return None

    def index(self, contact: Contact) -> None:
        """Record the contact under its email and phone."""
        email, phone = contact.identifier("email"), contact.identifier("phone")
        if email is not None:
            self.by_email[email.lower()] = contact.id
        if phone is not None:
            self.by_phone[phone] = contact.id

    @property
    def events(self) -> list[StoredEvent]:
        """The events Omnisend holds: historical duplicates are dropped."""
        return [e for e in self.received_events if not e.duplicate]

    @property
    def duplicate_events(self) -> int:
        """How many historical duplicates were dropped."""
        return sum(e.duplicate for e in self.received_events)

    def record_event(self, body: dict[str, Any], event_time: datetime | None) -> bool:
        """Store an event; False when it is a historical duplicate (dropped, as Omnisend does)."""
        received = self.now_datetime()
        historical = event_time is not None and event_time < received - HISTORICAL_AGE
        duplicate = False
        if historical and body.get("eventID"):
            key = (str(body["eventID"]), str(body["eventTime"]))
            duplicate = key in self._event_keys
            self._event_keys.add(key)
        self.received_events.append(StoredEvent(body, self.timestamp(), historical, duplicate))
        return not duplicate

    def add_batch(self, method: str, endpoint: str, origin: str, items: list[Any]) -> Batch:
        """Accept a batch; it finishes `batch_seconds` from now."""
        now = self.clock.now()
        batch = Batch(self.new_id(), method, endpoint, origin, items, now, now + self.batch_seconds)
        self.batches[batch.id] = batch
        return batch

    def add_tag_change(
        self, add: bool, tags: Sequence[str], selectors: Mapping[str, Sequence[str]]
    ) -> None:
        """Accept a tag change; it is applied `tag_seconds` from now."""
        self.tag_changes.append(
            TagChange(
                add,
                list(tags),
                list(selectors.get("contactIDs", ())),
                list(selectors.get("emails", ())),
                list(selectors.get("phones", ())),
                self.clock.now() + self.tag_seconds,
            )
        )

    def summary(self) -> dict[str, Any]:
        """Everything held, for `GET /__sandbox__/state`."""
        with self.lock:
            self.advance()
            return {
                "contacts": [
                    {
                        "id": c.id,
                        "email": c.identifier("email"),
                        "phone": c.identifier("phone"),
                        "tags": c.tags,
                        "identifiers": c.identifiers,
                        **c.fields,
                    }
                    for c in self.contacts.values()
                ],
                "events": [e.body for e in self.events],
                "duplicate_events": self.duplicate_events,
                "batches": [
                    {
                        "batchID": b.id,
                        "endpoint": b.endpoint,
                        "method": b.method,
                        "totalCount": len(b.items),
                        "finished": b.results is not None,
                    }
                    for b in self.batches.values()
                ],
                "pending_tag_changes": len(self.tag_changes),
                "requests": self.requests,
                "faults": dict(self.faults),
            }

    def _apply_tags(self, change: TagChange) -> None:
        targets: dict[str, Contact] = {}
        for contact_id in change.contact_ids:
            if contact_id in self.contacts:
                targets[contact_id] = self.contacts[contact_id]
        for email in change.emails:  # unmatched addresses are silently ignored (documented)
            found = self.by_email.get(email.lower())
            if found is not None:
                targets[found] = self.contacts[found]
        for phone in change.phones:
            found = self.by_phone.get(phone)
            if found is not None:
                targets[found] = self.contacts[found]
        for contact in targets.values():
            if change.add:
                contact.tags.extend(t for t in dict.fromkeys(change.tags) if t not in contact.tags)
            else:
                contact.tags[:] = [t for t in contact.tags if t not in change.tags]
            contact.updated_at = self.timestamp()

    def _finish(self, batch: Batch) -> None:
        assert self.apply_item is not None, "the app sets apply_item"
        results: list[BatchItemResult] = []
        for item in batch.items:
            if self.item_fails():
                code, response = (
                    503,
                    {
                        "type": "https://problems.omnisend.com/service-unavailable",
                        "title": "Service Unavailable",
                        "status": 503,
                        "detail": "The item could not be processed; retry it.",
                    },
                )
            else:
                code, response = self.apply_item(batch.endpoint, batch.method, item)
            results.append(BatchItemResult(self.new_id(), item, code, response))
        batch.results = results
        batch.ended_at = batch.due_at
