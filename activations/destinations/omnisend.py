"""Omnisend: segment members as contacts carrying the segment's tag, and enter/exit events.

What a sync sends (docs/destinations/omnisend.md), 1 and 2 for every segment before 3 and 4 for
any:
1. "exited" events, then the tag removed from leavers (`DELETE /contacts/tags`): a leaver stops
   receiving the segment's automation before anyone new is welcomed into it;
2. adds and updates upserted as contacts through `POST /batches` (100 per batch, asynchronous),
   their traits as custom properties, no welcome message, no consent (that is `sync_consents`:
   email consent on the email identifier, SMS consent on the phone);
3. the tag added (`POST /contacts/tags`, 250 addresses per call) to the contacts whose upsert the
   batch's per-item results confirmed: Omnisend silently ignores an address it has no contact
   for, so a tag change is acknowledged only for contacts known to exist;
4. "entered" events.

Events: Omnisend deduplicates an event by `eventID` + `eventTime` only when it is historical, so
an event re-sent after a lost answer would start an automation twice. Events therefore go out in
event batches, recorded as sending first; an event an earlier sync sent without a recorded answer
(`Event.sent_at`) is looked for in Omnisend's event batches, whose items echo each request,
before it is sent again. It is never re-sent blind.
"""

from __future__ import annotations

import uuid
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any, ClassVar, TypeVar

from pydantic import Field

from activations.destinations.base import AckSink, Registration
from activations.destinations.batching import JobPolling, chunks
from activations.destinations.environment import positive_seconds
from activations.destinations.options import DestinationOptions, Name, parse_options
from activations.errors import CohortflowError
from activations.http import (
    AuthError,
    ClientError,
    HttpClient,
    RateLimit,
    RateLimiter,
    RetryableError,
    time_scale,
)
from activations.rows import (
    CONSENT_ADDRESS,
    Channel,
    ConsentWork,
    DestinationKey,
    Event,
    EventAck,
    Member,
    Operation,
    PlanRow,
    RowAck,
    SegmentWork,
    ack,
    intent,
)
from activations.secrets import Secret

NAME = "omnisend"
API_VERSION = "2026-03-15"
DEFAULT_BASE_URL = "https://api.omnisend.com/api"
MAX_BATCH_ITEMS = 100
MAX_TAG_ADDRESSES = 250
BATCH_PAGE = 250  # the most `GET /batches` lists per page
# "rate limited to 400 requests per minute", per brand across keys; the tag routes also to 60.
BRAND = RateLimit(f"{NAME}:brand", burst=None, steady=400)
TAGS = RateLimit(f"{NAME}:tags", burst=None, steady=60)
DEFAULT_ENTERED_EVENT = "entered segment"
DEFAULT_EXITED_EVENT = "exited segment"
# Event ids are UUIDv5 of cohortflow's stable event id (the spec accepts v4 to v7).
EVENT_NAMESPACE = uuid.UUID("5b0c1a52-6f0e-5d1b-9a57-0c0f1c2b7d11")
# How far before an in-doubt event's recorded sending its batch may be dated (clock skew).
RECONCILE_MARGIN = timedelta(minutes=10)
# A GET costs one of the brand's 400 a minute: looking every 2 s at most keeps a finished batch
# from waiting long without spending much of it.
POLLING = JobPolling(first_look=0.5, longest_pause=2.0)
# Batches submitted before the oldest is read back: at the pace tag calls allow (250 contacts a
# second) the oldest has had about 8 s to finish, and its contacts are tagged soon after.
IN_FLIGHT = 20
_IDENTIFIER = {"email": "email", "phone": "phone"}
_ADDRESSES = {"email": "emails", "phone": "phones"}
_UNFINISHED = ("pending", "inProgress")
C = TypeVar("C")  # what a caller of `_pipeline` keeps with each batch


class OmnisendConfigError(CohortflowError):
    """Omnisend credentials, settings or a segment's Omnisend options cannot be used."""


@dataclass(frozen=True)
class OmnisendSettings:
    """Where and as whom to talk to Omnisend. Environment only: OMNISEND_API_KEY (required),
    OMNISEND_BASE_URL (default https://api.omnisend.com/api), OMNISEND_VERSION (default
    2026-03-15), COHORTFLOW_HTTP_TIMEOUT (seconds per request, default 30)."""

    api_key: Secret
    base_url: str = DEFAULT_BASE_URL
    version: str = API_VERSION
    timeout: float = 30.0

    @classmethod
    def from_env(cls, environ: Mapping[str, str]) -> OmnisendSettings:
        key = environ.get("OMNISEND_API_KEY", "").strip()
        if not key:
            raise OmnisendConfigError(
                "OMNISEND_API_KEY is not set: export an Omnisend API key (Store settings > "
                "API keys, scopes contacts and events: write; batches: read and write) to sync "
                "to Omnisend."
            )
        return cls(
            api_key=Secret(key),
            base_url=environ.get("OMNISEND_BASE_URL", DEFAULT_BASE_URL).rstrip("/"),
            version=environ.get("OMNISEND_VERSION", API_VERSION),
            timeout=positive_seconds(environ, "COHORTFLOW_HTTP_TIMEOUT", 30.0),
        )

    def client(self, limiter: RateLimiter | None = None) -> HttpClient:
        """The HTTP client every Omnisend call goes through; the key is the brand's account."""
        return HttpClient(
            self.base_url,
            headers={
                "Authorization": f"Omnisend-API-Key {self.api_key.reveal()}",
                "Omnisend-Version": self.version,
                "Accept": "application/json",
                "Content-Type": "application/json",
            },
            secrets=(self.api_key.reveal(),),
            account=self.api_key.reveal(),
            timeout=self.timeout,
            limiter=limiter or RateLimiter(time_scale=time_scale()),
        )


class OmnisendOptions(DestinationOptions):
    """A segment's `destinations.omnisend` block (docs/destinations/omnisend.md)."""

    tag: Annotated[Name, Field(examples=["lapsed-vip"])]
    events: bool = False
    target_option: ClassVar[str | None] = "tag"
    entered_event: Name = DEFAULT_ENTERED_EVENT
    exited_event: Name = DEFAULT_EXITED_EVENT
    send_welcome_message: bool = False

    @property
    def tag_name(self) -> str:
        return str(self.target)

    @property
    def event_names(self) -> dict[str, str]:
        return {"entered": self.entered_event, "exited": self.exited_event}


# ---------------------------------------------------------------- payloads (pure, no I/O)


def event_uuid(event_id: str) -> str:
    """The Omnisend `eventID` of a cohortflow event: stable, so a lookup can recognise it."""
    return str(uuid.uuid5(EVENT_NAMESPACE, event_id))


def _contact_item(member: Member, key: DestinationKey, welcome: bool) -> dict[str, Any]:
    """A contact identified by the segment's key alone (like Klaviyo's profile: the other
    address could match, and merge, another customer). No channel status: consent is only
    written by `sync_consents`, from the warehouse."""
    identifier: dict[str, Any] = {"type": _IDENTIFIER[key], "id": member.destination_key}
    identifier["sendWelcomeMessage"] = welcome
    return {"identifiers": [identifier], "customProperties": dict(member.traits)}


def _consent_item(channel: Channel, address: str, status: str) -> dict[str, Any]:
    """The channel's status on the identifier it belongs to (email, or phone for sms), that
    identifier alone: the contact is the one the segment keyed by that address."""
    return {
        "identifiers": [
            {
                "type": _IDENTIFIER[CONSENT_ADDRESS[channel]],
                "id": address,
                "channels": {channel: {"status": status}},
                "sendWelcomeMessage": False,
            }
        ]
    }


def _event_item(
    event: Event, segment: str, key: DestinationKey, names: Mapping[str, str]
) -> dict[str, Any]:
    properties = {"segment": segment, "change": event.change, "run_id": event.run_id}
    properties.update(event.traits)
    return {
        "eventName": names[event.change],
        "origin": "api",
        "eventID": event_uuid(event.event_id),
        "eventTime": _iso(event.occurred_at),
        "contact": {_IDENTIFIER[key]: event.address(key)},
        "properties": properties,
    }


def _iso(instant: datetime) -> str:
    if instant.tzinfo is None:
        instant = instant.replace(tzinfo=UTC)
    return instant.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _item_key(endpoint: str, request: Any) -> str | None:
    """What identifies an echoed batch item: the contact's identifier or the event's id."""
    if not isinstance(request, Mapping):
        return None
    if endpoint == "events":
        value = request.get("eventID")
        return str(value) if value else None
    identifiers = request.get("identifiers") or []
    first = identifiers[0] if identifiers and isinstance(identifiers[0], Mapping) else {}
    return str(first["id"]) if first.get("id") else None


def _reason(code: int, response: Any) -> str:
    """A batch item's failure as a person reads it; the detail can quote the address, so only
    the status and the problem's title are kept."""
    title = response.get("title") if isinstance(response, Mapping) else None
    return f"omnisend {code}" + (f" {title}" if title else "")


def _error_reason(error: ClientError | RetryableError) -> str:
    return f"omnisend {error}"


@dataclass(frozen=True)
class ItemResult:
    """One batch item's outcome: ok, or refused (for good when `retryable` is False)."""

    ok: bool
    retryable: bool = False
    reason: str | None = None

    def ack(self, row: PlanRow | Member, operation: Operation) -> RowAck:
        return ack(row, operation, ok=self.ok, retryable=self.retryable, reason=self.reason)

    def event_ack(self, event: Event) -> EventAck:
        return EventAck(event.event_id, self.ok, self.retryable, self.reason)


@dataclass(frozen=True)
class BatchOutcome:
    """Every item's outcome by its key; `otherwise` for a key the results do not name (a batch
    that failed as a whole, or an item missing from its results)."""

    results: Mapping[str, ItemResult] = field(default_factory=dict)
    otherwise: ItemResult = ItemResult(False, True, "omnisend batch result missing the item")

    @classmethod
    def failed(cls, reason: str) -> BatchOutcome:
        """Nothing of the batch is known to have landed: every item is retried next sync."""
        return cls({}, ItemResult(False, True, reason))

    def of(self, key: str) -> ItemResult:
        return self.results.get(key, self.otherwise)


@dataclass(frozen=True)
class Submitted:
    """A batch Omnisend accepted, and when (on the polling clock)."""

    batch_id: str
    at: float


# ---------------------------------------------------------------- the destination


@dataclass
class OmnisendDestination:
    """Syncs segments into Omnisend tags, contacts and custom events through one client."""

    client: HttpClient
    polling: JobPolling = field(default_factory=lambda: POLLING)
    name: str = NAME

    def check_options(self, options: Mapping[str, Mapping[str, Any]]) -> None:
        tags: dict[str, str] = {}
        for segment, segment_options in sorted(options.items()):
            tag = parse_options(OmnisendOptions, segment, segment_options).tag_name
            if tag in tags:
                # Each segment removes its tag from its leavers: a shared tag would be taken
                # from people the other segment still holds.
                raise OmnisendConfigError(
                    f"segments {tags[tag]} and {segment} both sync to the Omnisend tag {tag!r}: "
                    "give each segment its own tag."
                )
            tags[tag] = segment

    def sync_exits(self, work: SegmentWork, sink: AckSink) -> None:
        """ "Exited" events, then the tag taken from leavers. The runner sends every segment's
        exits before any segment's entries: a leaver stops receiving an automation before
        anyone new is welcomed into one."""
        options = self._options(work)
        exits = [event for event in work.events if event.change == "exited"]
        self._send_events(exits, work, options, sink)
        if work.removes:
            self._remove_tag(work.removes, work.key, options.tag_name, sink)

    def sync_entries(self, work: SegmentWork, sink: AckSink) -> None:
        """Adds and updates upserted and tagged, then "entered" events."""
        options = self._options(work)
        upserts: list[tuple[Member, Operation]] = [
            *((m, "add") for m in work.adds),
            *((m, "update") for m in work.updates),
        ]
        if upserts:
            self._upsert(upserts, work.key, options, sink)
        entries = [event for event in work.events if event.change == "entered"]
        self._send_events(entries, work, options, sink)

    def _options(self, work: SegmentWork) -> OmnisendOptions:
        if work.key not in _IDENTIFIER:
            raise OmnisendConfigError(
                f"segment {work.segment}: Omnisend identifies contacts by email or phone; "
                f"set `key: email` or `key: phone` instead of {work.key}."
            )
        return parse_options(OmnisendOptions, work.segment, work.options)

    def sync_consents(self, work: ConsentWork, sink: AckSink) -> None:
        """The channel's consent the warehouse holds, as the channel status of the contact's
        email or phone identifier: subscribed where it says subscribed, unsubscribed where
        cohortflow had granted it and it no longer does. Acknowledged per contact from the
        batches' item results."""
        channel = work.channel

        def batches() -> Iterator[tuple[tuple[bool, Sequence[str]], list[Any]]]:
            for status in ("subscribed", "unsubscribed"):
                granting = status == "subscribed"
                for chunk in chunks(
                    work.subscribe if granting else work.unsubscribe, MAX_BATCH_ITEMS
                ):
                    sink.consents_sending(
                        channel,
                        subscribe=chunk if granting else (),
                        unsubscribe=() if granting else chunk,
                    )
                    items = [_consent_item(channel, address, status) for address in chunk]
                    yield (granting, chunk), items

        def collected(batch: tuple[bool, Sequence[str]], outcome: BatchOutcome) -> None:
            granting, chunk = batch
            done = [address for address in chunk if outcome.of(address).ok]
            sink.consents(
                channel,
                subscribed=done if granting else (),
                unsubscribed=() if granting else done,
                failed=[address for address in chunk if not outcome.of(address).ok],
            )

        self._pipeline("contacts", batches(), collected)

    # ------------------------------------------------------------ contacts and tags

    def _upsert(
        self,
        rows: Sequence[tuple[Member, Operation]],
        key: DestinationKey,
        options: OmnisendOptions,
        sink: AckSink,
    ) -> None:
        """Upsert the contacts in batches and tag those the batches confirmed, 250 per call.

        Tag calls are the scarce budget (60 a minute against 400 for everything else), so they
        start as soon as the first batches are read back and always carry 250 addresses;
        submitting and reading batches fills the time between them."""
        welcome = options.send_welcome_message
        untagged: list[tuple[Member, Operation]] = []

        def batches() -> Iterator[tuple[Sequence[tuple[Member, Operation]], list[Any]]]:
            for chunk in chunks(rows, MAX_BATCH_ITEMS):
                sink.sending([intent(member, op) for member, op in chunk])
                yield chunk, [_contact_item(m, key, welcome) for m, _ in chunk]

        def tag(confirmed: Sequence[tuple[Member, Operation]]) -> None:
            outcome = self._tag("POST", key, options.tag_name, [m for m, _ in confirmed])
            sink.rows([outcome.ack(member, op) for member, op in confirmed])

        def collected(chunk: Sequence[tuple[Member, Operation]], outcome: BatchOutcome) -> None:
            refused = []
            for member, op in chunk:
                result = outcome.of(member.destination_key)
                if result.ok:
                    untagged.append((member, op))
                else:
                    refused.append(result.ack(member, op))
            sink.rows(refused)
            while len(untagged) >= MAX_TAG_ADDRESSES:
                tag(untagged[:MAX_TAG_ADDRESSES])
                del untagged[:MAX_TAG_ADDRESSES]

        self._pipeline("contacts", batches(), collected)
        if untagged:
            tag(untagged)

    def _remove_tag(
        self, removes: Sequence[PlanRow], key: DestinationKey, tag: str, sink: AckSink
    ) -> None:
        """Take the tag from leavers; an address Omnisend has no contact for holds no tag."""
        for batch in chunks(removes, MAX_TAG_ADDRESSES):
            sink.sending([intent(row, "remove") for row in batch])
            outcome = self._tag("DELETE", key, tag, batch)
            sink.rows([outcome.ack(row, "remove") for row in batch])

    def _tag(
        self, method: str, key: DestinationKey, tag: str, rows: Sequence[PlanRow | Member]
    ) -> ItemResult:
        """One tag change for up to 250 contacts; 202 means accepted (applied asynchronously)."""
        body = {"tags": [tag], _ADDRESSES[key]: [row.destination_key for row in rows]}
        try:
            self.client.request(method, "/contacts/tags", limit=(TAGS, BRAND), json=body)
        except AuthError:
            raise
        except (RetryableError, ClientError) as error:
            # A tag call is about the tag and the addresses together: never a verdict on one row.
            return ItemResult(False, True, _error_reason(error))
        return ItemResult(True)

    # ------------------------------------------------------------ events

    def _send_events(
        self,
        events: Sequence[Event],
        work: SegmentWork,
        options: OmnisendOptions,
        sink: AckSink,
    ) -> None:
        if not events:
            return
        doubtful = [event for event in events if event.sent_at is not None]
        held = self._events_held(doubtful) if doubtful else set()
        if held:
            sink.events(
                [EventAck(e.event_id, True) for e in doubtful if event_uuid(e.event_id) in held]
            )
        fresh = [e for e in events if event_uuid(e.event_id) not in held]
        names = options.event_names

        def batches() -> Iterator[tuple[Sequence[Event], list[Any]]]:
            for chunk in chunks(fresh, MAX_BATCH_ITEMS):
                sink.events_sending(chunk)
                yield chunk, [_event_item(e, work.segment, work.key, names) for e in chunk]

        def collected(chunk: Sequence[Event], outcome: BatchOutcome) -> None:
            sink.events([outcome.of(event_uuid(e.event_id)).event_ack(e) for e in chunk])

        self._pipeline("events", batches(), collected)

    def _events_held(self, events: Sequence[Event]) -> set[str]:
        """The Omnisend event ids among `events` that an event batch already delivered, read
        from every event batch created since the earliest of them was sent (newest first)."""
        wanted = {event_uuid(e.event_id) for e in events}
        since = min(e.sent_at for e in events if e.sent_at is not None) - RECONCILE_MARGIN
        found: set[str] = set()
        offset = 0
        while True:
            page = self.client.request(
                "GET",
                "/batches",
                limit=BRAND,
                params={
                    "endpoint": "events",
                    # Omnisend filters by day; a listing newer than `since` stops earlier still.
                    "dateFrom": since.date().isoformat(),
                    "limit": BATCH_PAGE,
                    "offset": offset,
                },
            ).json()
            batches = page.get("batches") or []
            for batch in batches:
                created = _created(batch)
                if created is not None and created < since:
                    return wanted & found  # newest first: every later batch is older still
                # A listed batch has had its time: its items are looked at at once.
                at = self.polling.clock() - self.polling.first_look / self.polling.time_scale
                outcome = self._collect("events", Submitted(str(batch["batchID"]), at))
                found.update(event_id for event_id, r in outcome.results.items() if r.ok)
                if wanted <= found:
                    return wanted
            if len(batches) < BATCH_PAGE:
                return wanted & found
            offset += BATCH_PAGE

    # ------------------------------------------------------------ batches

    def _pipeline(
        self,
        endpoint: str,
        batches: Iterable[tuple[C, Sequence[dict[str, Any]]]],
        collected: Callable[[C, BatchOutcome], None],
    ) -> None:
        """Submit each batch of `endpoint` items and hand every batch's outcome to `collected`,
        in order, reading back the oldest once IN_FLIGHT batches are out.

        Reading a batch back as late as that gives Omnisend time to finish it (one look, not
        several, out of the brand's 400 a minute), while its outcome still arrives seconds after
        it was sent rather than after the last batch was submitted. Event batches are never
        resent on a lost answer: the batch may exist, and the next sync looks for it."""
        in_flight: deque[tuple[C, Submitted | BatchOutcome]] = deque()
        resend = endpoint != "events"
        for context, items in batches:
            in_flight.append((context, self._submit(endpoint, items, retry_on_timeout=resend)))
            if len(in_flight) >= IN_FLIGHT:
                oldest, batch = in_flight.popleft()
                collected(oldest, self._collect(endpoint, batch))
        while in_flight:
            oldest, batch = in_flight.popleft()
            collected(oldest, self._collect(endpoint, batch))

    def _submit(
        self, endpoint: str, items: Sequence[dict[str, Any]], *, retry_on_timeout: bool
    ) -> Submitted | BatchOutcome:
        """Create one batch of `endpoint` items (processed asynchronously), or say why it could
        not be: every item is then retried by the next sync (a contact upsert is safe to send
        twice; an event is looked for first, as it was recorded as sending)."""
        body = {"method": "POST", "endpoint": endpoint, "items": list(items)}
        try:
            response = self.client.request(
                "POST", "/batches", limit=BRAND, json=body, retry_on_timeout=retry_on_timeout
            )
        except AuthError:
            raise
        except (RetryableError, ClientError) as error:
            return BatchOutcome.failed(_error_reason(error))
        return Submitted(str(response.json()["batchID"]), self.polling.clock())

    def _collect(self, endpoint: str, batch: Submitted | BatchOutcome) -> BatchOutcome:
        """Each item's outcome, read from the batch's items once it is finished. A batch still
        running at the deadline is left to Omnisend: nothing of it is acknowledged."""
        if isinstance(batch, BatchOutcome):
            return batch

        def look() -> dict[str, Any]:
            path = f"/batches/{batch.batch_id}/items"
            return dict(self.client.request("GET", path, limit=BRAND).json())

        pending: dict[str, Any] = {"status": "pending"}
        try:
            seen = self.polling.wait(
                pending,
                running=lambda document: document.get("status") in _UNFINISHED,
                look=look,
                submitted_at=batch.at,
            )
        except AuthError:
            raise
        except (RetryableError, ClientError) as error:
            return BatchOutcome.failed(_error_reason(error))
        if seen.get("status") in _UNFINISHED:
            return BatchOutcome.failed("omnisend batch not finished by the deadline")
        results: dict[str, ItemResult] = {}
        for item in seen.get("responses") or []:
            item_key = _item_key(endpoint, item.get("request"))
            if item_key is None:
                continue
            code = int(item.get("responseCode") or 0)
            if 200 <= code < 300:
                results[item_key] = ItemResult(True)
            else:
                # A 4xx is the item's data (an invalid address): the same data fails again.
                retryable = code >= 500 or code in (0, 408, 409, 429)
                reason = _reason(code, item.get("response"))
                results[item_key] = ItemResult(False, retryable, reason)
        return BatchOutcome(results)


def _created(batch: Mapping[str, Any]) -> datetime | None:
    text = batch.get("createdAt")
    if not isinstance(text, str):
        return None
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed.astimezone(UTC).replace(tzinfo=None)


@contextmanager
def open_omnisend(environ: Mapping[str, str]) -> Iterator[tuple[OmnisendDestination, HttpClient]]:
    """The destination and its one HTTP client, from the environment; closed afterwards.

    Raises:
        OmnisendConfigError: OMNISEND_API_KEY is missing or a setting is invalid.
    """
    settings = OmnisendSettings.from_env(environ)
    with settings.client() as client:
        polling = replace(POLLING, time_scale=time_scale())
        yield OmnisendDestination(client, polling=polling), client


REGISTRATION = Registration(
    name=NAME,
    options=OmnisendOptions,
    required_env=("OMNISEND_API_KEY",),
    open=open_omnisend,
    consent_channels=("email", "sms"),
)
