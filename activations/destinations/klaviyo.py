"""Klaviyo: profiles with traits, list membership, enter/exit events and email consent.

Follows the vendor's OpenAPI document `shared/api-specs/klaviyo/openapi-stable.json`, revision
2026-07-15 (JSON:API bodies, `application/vnd.api+json`, `Authorization: Klaviyo-API-Key`,
`revision` header). Limits quoted from the spec (`x-klaviyo-ratelimit`: burst per second, steady
per minute, per account) and its operation descriptions:

- bulk_import_profiles POST /api/profile-bulk-import-jobs: 10/s 150/m; up to 10,000 profiles and
  5 MB per job, 100 KB per profile. Its job GET, import-errors and profiles reads: 10/s 150/m.
- add/remove_profiles_to/from_list /api/lists/{id}/relationships/profiles: 10/s 150/m; at most
  1,000 profile ids per call.
- get_lists 75/s 750/m (10 per page); create_list 10/s 150/m and 150 per day.
- get_profiles 75/s 750/m (100 per page).
- bulk_create_events POST /api/event-bulk-create-jobs: 10/s 150/m; up to 1,000 events and 5 MB.
- bulk_subscribe_profiles 75/s 750/m, up to 1,000 profiles; bulk_unsubscribe_profiles 75/s
  750/m, up to 100 profiles.

How a segment is synced: profiles to add or update go out in bulk import jobs that also put them
in the segment's list, so an add costs no list call; the job is polled to completion and its
import errors read back, and only the rows the job did not reject are acknowledged. Removals need
Klaviyo's profile ids: those we learned are kept in the ledger, the rest are looked up by key 100
at a time. Events carry our stable event id as `unique_id`, on which Klaviyo deduplicates, so a
re-sent batch cannot produce a second event. They go out after the upserts and before the
removals, so a leaver's "Exited" event reaches the profile while it is still in the list.
"""

from __future__ import annotations

import json
from collections import deque
from collections.abc import Iterator, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Annotated, Any, ClassVar, TypeVar
from urllib.parse import parse_qs, urlsplit

from pydantic import Field

from activations.destinations.base import AckSink, Registration
from activations.destinations.batching import JobPolling, chunks, within_limits
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

NAME = "klaviyo"
REVISION = "2026-07-15"
DEFAULT_BASE_URL = "https://a.klaviyo.com"
CONTENT_TYPE = "application/vnd.api+json"

MAX_JOB_PROFILES = 10_000
MAX_JOB_BYTES = 5_000_000
MAX_PROFILE_BYTES = 100_000
MAX_LIST_PROFILES = 1_000
MAX_EVENTS = 1_000
MAX_SUBSCRIBE = 1_000
MAX_UNSUBSCRIBE = 100
LOOKUP_PAGE = 100
ERRORS_PAGE = 100
# Import jobs queued for the sending thread (5 MB bodies): one uploading, one ready behind it.
IMPORTS_IN_FLIGHT = 2

LIMITS = {
    name: RateLimit(f"{NAME}:{name}", burst=burst, steady=steady)
    for name, burst, steady in (
        ("bulk_import_profiles", 10, 150),
        ("get_bulk_import_profiles_job", 10, 150),
        ("get_errors_for_bulk_import_profiles_job", 10, 150),
        ("add_profiles_to_list", 10, 150),
        ("remove_profiles_from_list", 10, 150),
        ("get_lists", 75, 750),
        ("create_list", 10, 150),
        ("get_profiles", 75, 750),
        ("bulk_create_events", 10, 150),
        ("bulk_subscribe_profiles", 75, 750),
        ("bulk_unsubscribe_profiles", 75, 750),
    )
}

# Import-error codes that re-sending the same data cannot fix: the row is quarantined with the
# reason until its data changes. Anything else (an internal error inside the job) is retried.
PERMANENT_IMPORT_CODES = frozenset({"invalid", "duplicate_profile", "payload_too_large"})
DEFAULT_ENTERED_METRIC = "Entered segment"
DEFAULT_EXITED_METRIC = "Exited segment"
T = TypeVar("T")
_KEY_ATTRIBUTE = {"email": "email", "phone": "phone_number", "person_id": "external_id"}


class KlaviyoConfigError(CohortflowError):
    """Klaviyo credentials or a segment's Klaviyo options are missing or invalid."""


@dataclass(frozen=True)
class KlaviyoSettings:
    """Where and as whom to talk to Klaviyo. Environment only: KLAVIYO_API_KEY (required),
    KLAVIYO_BASE_URL (default https://a.klaviyo.com), KLAVIYO_REVISION (default 2026-07-15),
    COHORTFLOW_HTTP_TIMEOUT (seconds per request, default 30)."""

    api_key: Secret
    base_url: str = DEFAULT_BASE_URL
    revision: str = REVISION
    timeout: float = 30.0
    poll_interval: float = 1.0

    @classmethod
    def from_env(cls, environ: Mapping[str, str]) -> KlaviyoSettings:
        key = environ.get("KLAVIYO_API_KEY", "").strip()
        if not key:
            raise KlaviyoConfigError(
                "KLAVIYO_API_KEY is not set: export a Klaviyo private API key (Settings > API "
                "keys, scopes lists/profiles/events/subscriptions: write) to sync to Klaviyo."
            )
        return cls(
            api_key=Secret(key),
            base_url=environ.get("KLAVIYO_BASE_URL", DEFAULT_BASE_URL).rstrip("/"),
            revision=environ.get("KLAVIYO_REVISION", REVISION),
            timeout=positive_seconds(environ, "COHORTFLOW_HTTP_TIMEOUT", 30.0),
        )

    def client(self, limiter: RateLimiter | None = None) -> HttpClient:
        """The HTTP client every Klaviyo call goes through, with auth and revision headers."""
        return HttpClient(
            self.base_url,
            headers={
                "Authorization": f"Klaviyo-API-Key {self.api_key.reveal()}",
                "revision": self.revision,
                "Accept": CONTENT_TYPE,
                "Content-Type": CONTENT_TYPE,
            },
            secrets=(self.api_key.reveal(),),
            account=self.api_key.reveal(),
            timeout=self.timeout,
            limiter=limiter or RateLimiter(time_scale=time_scale()),
        )


class KlaviyoOptions(DestinationOptions):
    """A segment's `destinations.klaviyo` block (docs/destinations/klaviyo.md)."""

    list: Annotated[Name, Field(examples=["Lapsed VIPs"])]
    events: bool = False
    target_option: ClassVar[str | None] = "list"
    entered_metric: Name = DEFAULT_ENTERED_METRIC
    exited_metric: Name = DEFAULT_EXITED_METRIC

    @property
    def list_name(self) -> str:
        """The list's name as Klaviyo holds it (surrounding spaces are not part of it)."""
        return str(self.target)

    @property
    def metrics(self) -> dict[str, str]:
        """The metric each change's event is sent under."""
        return {"entered": self.entered_metric, "exited": self.exited_metric}


# ---------------------------------------------------------------- payloads (pure, no I/O)


def _profile(member: Member, key: str) -> dict[str, Any]:
    """The profile is identified by the segment's key alone. Sending the person's other address
    too would let Klaviyo match on it: two customers sharing a phone would then be merged into
    one profile, and one of them silently dropped from the list."""
    attributes: dict[str, Any] = {_KEY_ATTRIBUTE[key]: member.destination_key}
    attributes["properties"] = dict(member.traits)
    return {"type": "profile", "attributes": attributes}


def _profiles_body(profiles: Sequence[bytes], list_id: str) -> bytes:
    """A bulk import job around profiles already serialised (each exactly once: their size is
    needed to stay under 5 MB, and a 10,000-profile job is not worth encoding twice)."""
    relationships = json.dumps(
        {"lists": {"data": [{"type": "list", "id": list_id}]}}, separators=(",", ":")
    )
    return (
        b'{"data":{"type":"profile-bulk-import-job","attributes":{"profiles":{"data":['
        + b",".join(profiles)
        + b']}},"relationships":'
        + relationships.encode()
        + b"}}"
    )


def _list_members_payload(profile_ids: Sequence[str]) -> dict[str, Any]:
    return {"data": [{"type": "profile", "id": profile_id} for profile_id in profile_ids]}


def _event_entry(
    event: Event, segment: str, key: DestinationKey, metrics: Mapping[str, str]
) -> dict[str, Any]:
    """One event with its profile, identified by the segment's key alone (like `_profile`), so
    the event lands on the profile that is in the list and never merges two customers."""
    properties = {"segment": segment, "change": event.change, "run_id": event.run_id}
    properties.update(event.traits)
    metric = {"data": {"type": "metric", "attributes": {"name": metrics[event.change]}}}
    return {
        "type": "event-bulk-create",
        "attributes": {
            "profile": {
                "data": {
                    "type": "profile",
                    "attributes": {_KEY_ATTRIBUTE[key]: event.address(key)},
                }
            },
            "events": {
                "data": [
                    {
                        "type": "event",
                        "attributes": {
                            "properties": properties,
                            "time": _iso(event.occurred_at),
                            "unique_id": event.event_id,
                            "metric": metric,
                        },
                    }
                ]
            },
        },
    }


def _event_batches(
    events: Sequence[Event], segment: str, key: DestinationKey, metrics: Mapping[str, str]
) -> Iterator[list[tuple[Event, dict[str, Any]]]]:
    """Events with their entries, in requests within the count and byte limits (entries carry
    the traits, so 1,000 of them can pass 5 MB)."""
    entries = ((event, _event_entry(event, segment, key, metrics)) for event in events)
    sized = ((pair, _size(pair[1])) for pair in entries)
    return within_limits(sized, max_count=MAX_EVENTS, max_bytes=MAX_JOB_BYTES)


def _event_payload(entries: Sequence[dict[str, Any]]) -> dict[str, Any]:
    return {
        "data": {
            "type": "event-bulk-create-job",
            "attributes": {"events-bulk-create": {"data": list(entries)}},
        }
    }


def _consent_payload(job_type: str, emails: Sequence[str], consent: str) -> dict[str, Any]:
    """A subscribe (`SUBSCRIBED`) or unsubscribe (`UNSUBSCRIBED`) job for email marketing."""
    subscriptions = {"email": {"marketing": {"consent": consent}}}
    profiles = [
        {"type": "profile", "attributes": {"email": email, "subscriptions": subscriptions}}
        for email in emails
    ]
    return {"data": {"type": job_type, "attributes": {"profiles": {"data": profiles}}}}


def _iso(instant: datetime) -> str:
    if instant.tzinfo is None:
        instant = instant.replace(tzinfo=UTC)
    return instant.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _size(document: Any) -> int:
    return len(json.dumps(document, separators=(",", ":")).encode())


def _job_chunks(members: Sequence[Member], key: str) -> Iterator[list[tuple[Member, bytes]]]:
    """Members with their serialised profiles, in jobs within the count and byte limits. A
    profile over the per-profile limit stays in its chunk for the caller to refuse."""
    encoded = (
        (member, json.dumps(_profile(member, key), separators=(",", ":")).encode())
        for member in members
    )
    sized = ((pair, len(pair[1])) for pair in encoded)
    return within_limits(sized, max_count=MAX_JOB_PROFILES, max_bytes=MAX_JOB_BYTES)


def _error_reason(error: ClientError | RetryableError) -> str:
    return f"klaviyo {error}"


# ---------------------------------------------------------------- the destination


@dataclass
class KlaviyoDestination:
    """Syncs segments into Klaviyo lists, events and consent through one shared client."""

    client: HttpClient
    polling: JobPolling = field(default_factory=JobPolling)
    name: str = NAME
    _lists: dict[str, str] = field(default_factory=dict)

    def check_options(self, options: Mapping[str, Mapping[str, Any]]) -> None:
        lists: dict[str, str] = {}
        for segment, segment_options in sorted(options.items()):
            name = parse_options(KlaviyoOptions, segment, segment_options).list_name
            if name in lists:
                # Each segment removes the people who left it; sharing a list would remove
                # members the other segment still needs.
                raise KlaviyoConfigError(
                    f"segments {lists[name]} and {segment} both sync to the Klaviyo list "
                    f"{name!r}: give each segment its own list."
                )
            lists[name] = segment

    def sync_exits(self, work: SegmentWork, sink: AckSink) -> None:
        """ "Exited" events, then leavers removed from the list. The runner sends every
        segment's exits before any segment's entries: a leaver stops receiving a flow before
        anyone new is welcomed into one. The event goes while the profile is still in the list,
        so a flow that filters on list membership, or is stopped by the exit, still finds the
        person."""
        options = parse_options(KlaviyoOptions, work.segment, work.options)
        self._events([e for e in work.events if e.change == "exited"], work, options, sink)
        if not work.removes:
            return
        list_id = self._found_list_id(options.list_name)
        if list_id is None:
            # Deleted in Klaviyo (or never made): nobody is in it, and creating it only to
            # remove people from it would leave an empty list behind.
            sink.rows([ack(row, "remove", ok=True) for row in work.removes])
            return
        self._remove(work.removes, work.key, dict(work.profile_ids), list_id, sink)

    def sync_entries(self, work: SegmentWork, sink: AckSink) -> None:
        """Adds and updates upserted into the list, then "Entered" events, which so land on
        the profiles just imported."""
        options = parse_options(KlaviyoOptions, work.segment, work.options)
        if work.adds or work.updates:
            upserts: list[tuple[Member, Operation]] = [
                *((m, "add") for m in work.adds),
                *((m, "update") for m in work.updates),
            ]
            self._upsert(upserts, work.key, self._list_id(options.list_name), sink)
        self._events([e for e in work.events if e.change == "entered"], work, options, sink)

    def _events(
        self, events: Sequence[Event], work: SegmentWork, options: KlaviyoOptions, sink: AckSink
    ) -> None:
        for batch in _event_batches(events, work.segment, work.key, options.metrics):
            self._send_events(batch, sink)

    def sync_consents(self, work: ConsentWork, sink: AckSink) -> None:
        """Grant email marketing consent the warehouse holds; withdraw what it no longer does."""
        for emails in chunks(work.subscribe, MAX_SUBSCRIBE):
            sink.consents_sending(work.channel, subscribe=emails, unsubscribe=())
            if self._post_job(
                "/api/profile-subscription-bulk-create-jobs",
                "bulk_subscribe_profiles",
                _consent_payload("profile-subscription-bulk-create-job", emails, "SUBSCRIBED"),
            ):
                sink.consents(work.channel, subscribed=emails, unsubscribed=())
            else:
                sink.consents(work.channel, subscribed=(), unsubscribed=(), failed=emails)
        for emails in chunks(work.unsubscribe, MAX_UNSUBSCRIBE):
            sink.consents_sending(work.channel, subscribe=(), unsubscribe=emails)
            if self._post_job(
                "/api/profile-subscription-bulk-delete-jobs",
                "bulk_unsubscribe_profiles",
                _consent_payload("profile-subscription-bulk-delete-job", emails, "UNSUBSCRIBED"),
            ):
                sink.consents(work.channel, subscribed=(), unsubscribed=emails)
            else:
                sink.consents(work.channel, subscribed=(), unsubscribed=(), failed=emails)

    # ------------------------------------------------------------ lists

    def _list_id(self, name: str) -> str:
        """The id of the list called `name`, created when missing. Creating is not idempotent
        (Klaviyo allows two lists with one name), so an unanswered create (a lost answer, or a
        5xx after which the server may have acted) is followed by a lookup, never by a blind
        second create."""
        found = self._found_list_id(name)
        for _ in range(5):
            if found is not None:
                return found
            try:
                response = self.client.request(
                    "POST",
                    "/api/lists",
                    limit=LIMITS["create_list"],
                    json={"data": {"type": "list", "attributes": {"name": name}}},
                    retry_on_timeout=False,
                )
            except RetryableError:
                found = self._found_list_id(name)
                continue
            found = self._lists[name] = str(response.json()["data"]["id"])
        if found is None:
            raise CohortflowError(
                f"klaviyo: could not find or create the list {name!r} after 5 attempts; "
                "check KLAVIYO_BASE_URL and Klaviyo's status, then run the sync again."
            )
        return found

    def _found_list_id(self, name: str) -> str | None:
        """The id of the list called `name` if Klaviyo has one (None: it has none)."""
        if name not in self._lists:
            found = self._find_list(name)
            if found is None:
                return None
            self._lists[name] = found
        return self._lists[name]

    def _find_list(self, name: str) -> str | None:
        candidates = [
            (str(item["attributes"].get("created", "")), str(item["id"]))
            for item in self._pages(
                "/api/lists",
                "get_lists",
                {"filter": f"equals(name,{json.dumps(name, ensure_ascii=False)})"},
            )
            if item.get("attributes", {}).get("name") == name
        ]
        # Two lists with one name (made by hand, say): always the oldest, so runs agree.
        return min(candidates)[1] if candidates else None

    # ------------------------------------------------------------ profiles

    def _upsert(
        self, rows: Sequence[tuple[Member, Operation]], key: str, list_id: str, sink: AckSink
    ) -> None:
        """Send every import job, then collect them: Klaviyo works on queued jobs while later
        ones are still being sent, so the sync waits for the slowest job, not their sum.

        Jobs are sent from one background thread, so the next job's profiles are serialised and
        recorded as sending while the previous job's 5 MB are uploaded and accepted; at most
        `IMPORTS_IN_FLIGHT` jobs wait for the sender at once. Every acknowledgement is written
        from this thread, in order."""
        operation = {member.destination_key: op for member, op in rows}
        submitted: list[tuple[list[Member], dict[str, Any], float]] = []
        in_flight: deque[tuple[list[Member], Future[tuple[dict[str, Any], float]]]] = deque()

        def settle(members: list[Member], sent: Future[tuple[dict[str, Any], float]]) -> None:
            try:
                job, submitted_at = sent.result()
            except (RetryableError, ClientError) as error:
                sink.rows(_failed(members, operation, error))
            else:
                submitted.append((members, job, submitted_at))

        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="klaviyo-import") as sender:
            for chunk in _job_chunks([member for member, _ in rows], key):
                oversized = [m for m, encoded in chunk if len(encoded) > MAX_PROFILE_BYTES]
                if oversized:
                    refused = "traits over 100 KB"
                    sink.rows(
                        [
                            ack(m, operation[m.destination_key], ok=False, reason=refused)
                            for m in oversized
                        ]
                    )
                sendable = [(m, p) for m, p in chunk if len(p) <= MAX_PROFILE_BYTES]
                if not sendable:
                    continue
                members = [member for member, _ in sendable]
                sink.sending([intent(m, operation[m.destination_key]) for m in members])
                body = _profiles_body([profile for _, profile in sendable], list_id)
                if len(in_flight) >= IMPORTS_IN_FLIGHT:
                    settle(*in_flight.popleft())
                in_flight.append((members, sender.submit(self._send_import, body)))
            while in_flight:
                settle(*in_flight.popleft())
        for members, job, submitted_at in submitted:
            sink.rows(self._collect_job(members, job, submitted_at, key, operation))

    def _send_import(self, body: bytes) -> tuple[dict[str, Any], float]:
        """Create one import job; its JSON:API resource and when Klaviyo accepted it."""
        job = self.client.request(
            "POST",
            "/api/profile-bulk-import-jobs",
            limit=LIMITS["bulk_import_profiles"],
            content=body,
        ).json()["data"]
        return job, self.polling.clock()

    def _collect_job(
        self,
        members: Sequence[Member],
        job: dict[str, Any],
        submitted_at: float,
        key: str,
        operation: Mapping[str, Operation],
    ) -> list[RowAck]:
        """Wait for a submitted job and acknowledge exactly the rows it did not reject."""
        try:
            job = self._wait_for_job(str(job["id"]), job, submitted_at)
            attributes = job["attributes"]
            failed_count = int(attributes.get("failed_count") or 0)
            failed = self._import_errors(str(job["id"]), key) if failed_count else {}
        except (RetryableError, ClientError) as error:
            return _failed(members, operation, error)
        if attributes["status"] != "complete":
            reason = "klaviyo import job not complete"
            return [
                ack(m, operation[m.destination_key], ok=False, retryable=True, reason=reason)
                for m in members
            ]
        unattributed = failed_count > len(failed)
        acks = []
        for member in members:
            op = operation[member.destination_key]
            if member.destination_key in failed:
                code, title = failed[member.destination_key]
                reason = f"klaviyo import error {code}: {title}"
                retryable = code not in PERMANENT_IMPORT_CODES
                acks.append(ack(member, op, ok=False, retryable=retryable, reason=reason))
            elif unattributed:
                # The job failed rows it did not name: nothing of it is marked synced.
                reason = "klaviyo job failed unnamed rows"
                acks.append(ack(member, op, ok=False, retryable=True, reason=reason))
            else:
                acks.append(ack(member, op, ok=True))
        return acks

    def _wait_for_job(
        self, job_id: str, job: dict[str, Any], submitted_at: float
    ) -> dict[str, Any]:
        """The job once done, or as last seen at the deadline (a job still running then is left
        to Klaviyo and its rows are retried next run: a re-import is harmless)."""
        return self.polling.wait(
            job,
            running=lambda seen: seen["attributes"]["status"] in ("queued", "processing"),
            look=lambda: self.client.request(
                "GET",
                f"/api/profile-bulk-import-jobs/{job_id}",
                limit=LIMITS["get_bulk_import_profiles_job"],
            ).json()["data"],
            submitted_at=submitted_at,
        )

    def _import_errors(self, job_id: str, key: str) -> dict[str, tuple[str, str]]:
        """Key -> (code, title) of every profile the job rejected. Titles are generic ("Invalid
        input"); the detail text can quote the customer's address, so it is never kept."""
        attribute = _KEY_ATTRIBUTE[key]
        errors: dict[str, tuple[str, str]] = {}
        for error in self._pages(
            f"/api/profile-bulk-import-jobs/{job_id}/import-errors",
            "get_errors_for_bulk_import_profiles_job",
            {"page[size]": str(ERRORS_PAGE)},
        ):
            attributes = error.get("attributes", {})
            payload = attributes.get("original_payload") or {}
            value = payload.get(attribute) or payload.get("attributes", {}).get(attribute)
            if value:
                errors[str(value)] = (
                    str(attributes.get("code", "unknown")),
                    str(attributes.get("title", "")),
                )
        return errors

    def _remove(
        self,
        removes: Sequence[PlanRow],
        key: str,
        known: dict[str, str],
        list_id: str,
        sink: AckSink,
        *,
        looked_up: bool = False,
    ) -> None:
        missing = [row.destination_key for row in removes if row.destination_key not in known]
        learned = self._lookup_profile_ids(missing, key) if missing else {}
        if learned:
            sink.profile_ids(learned)
        known.update(learned)
        # A key Klaviyo has no profile for is in no list: removing it is already done.
        absent = [row for row in removes if row.destination_key not in known]
        if absent:
            sink.rows([ack(row, "remove", ok=True) for row in absent])
        present = [row for row in removes if row.destination_key in known]
        for batch in chunks(present, MAX_LIST_PROFILES):
            sink.sending([intent(row, "remove") for row in batch])
            try:
                self.client.request(
                    "DELETE",
                    f"/api/lists/{list_id}/relationships/profiles",
                    limit=LIMITS["remove_profiles_from_list"],
                    json=_list_members_payload([known[row.destination_key] for row in batch]),
                )
            except AuthError:
                raise
            except ClientError as error:
                if not looked_up:
                    # One remembered id Klaviyo no longer knows (a merged or deleted profile)
                    # fails the whole call: ask Klaviyo for the batch's ids again, retry once.
                    for row in batch:
                        known.pop(row.destination_key, None)
                    self._remove(batch, key, known, list_id, sink, looked_up=True)
                    continue
                sink.rows(_refused(batch, "remove", error))
                continue
            except RetryableError as error:
                sink.rows(_refused(batch, "remove", error))
                continue
            sink.rows([ack(row, "remove", ok=True) for row in batch])

    def _lookup_profile_ids(self, keys: Sequence[str], key: str) -> dict[str, str]:
        attribute = _KEY_ATTRIBUTE[key]
        found: dict[str, str] = {}
        for batch in chunks(keys, LOOKUP_PAGE):
            query = {
                "filter": f"any({attribute},{json.dumps(list(batch), ensure_ascii=False)})",
                "page[size]": str(LOOKUP_PAGE),
            }
            for profile in self._pages("/api/profiles", "get_profiles", query):
                value = profile.get("attributes", {}).get(attribute)
                if value is not None:
                    found[str(value)] = str(profile["id"])
        return found

    def _pages(self, path: str, operation: str, params: dict[str, str]) -> Iterator[dict[str, Any]]:
        """Every resource of a paginated GET, following JSON:API `links.next` cursors."""
        query: dict[str, str] | None = params
        while query is not None:
            body = self.client.request("GET", path, limit=LIMITS[operation], params=query).json()
            yield from body.get("data", [])
            query = _next_page(body, query)

    # ------------------------------------------------------------ events and jobs

    def _send_events(self, batch: Sequence[tuple[Event, dict[str, Any]]], sink: AckSink) -> None:
        """Send a batch; a 4xx rejects the whole batch, so it is split until the bad event is
        alone and only that one is refused."""
        try:
            self.client.request(
                "POST",
                "/api/event-bulk-create-jobs",
                limit=LIMITS["bulk_create_events"],
                json=_event_payload([entry for _, entry in batch]),
            )
        except AuthError:
            raise
        except ClientError as error:
            if len(batch) > 1:
                middle = len(batch) // 2
                self._send_events(batch[:middle], sink)
                self._send_events(batch[middle:], sink)
                return
            sink.events(
                [EventAck(e.event_id, False, False, _error_reason(error)) for e, _ in batch]
            )
            return
        except RetryableError as error:
            sink.events([EventAck(e.event_id, False, True, _error_reason(error)) for e, _ in batch])
            return
        sink.events([EventAck(e.event_id, True) for e, _ in batch])

    def _post_job(self, path: str, operation: str, payload: dict[str, Any]) -> bool:
        """POST an asynchronous job Klaviyo acknowledges with 202; False when it was refused
        (the same work is planned again next run)."""
        try:
            self.client.request("POST", path, limit=LIMITS[operation], json=payload)
        except AuthError:
            raise
        except (RetryableError, ClientError):
            return False
        return True


def _next_page(body: Mapping[str, Any], params: dict[str, str]) -> dict[str, str] | None:
    """The query of the next page from JSON:API `links.next`, or None on the last page."""
    link = (body.get("links") or {}).get("next")
    if not link:
        return None
    cursor = parse_qs(urlsplit(str(link)).query).get("page[cursor]")
    if not cursor:
        return None
    return {**params, "page[cursor]": cursor[0]}


def _failed(
    members: Sequence[Member],
    operation: Mapping[str, Operation],
    error: RetryableError | ClientError,
) -> list[RowAck]:
    """Every row of a job whose request failed as a whole. That is never a verdict on the rows
    themselves (only per-profile import errors are), so they are retried next run; bad
    credentials stop the sync."""
    if isinstance(error, AuthError):
        raise error
    reason = _error_reason(error)
    return [
        ack(m, operation[m.destination_key], ok=False, retryable=True, reason=reason)
        for m in members
    ]


def _refused(
    rows: Sequence[PlanRow], operation: Operation, error: ClientError | RetryableError
) -> list[RowAck]:
    """`rows` refused for another try by the next sync: `error` failed their whole request."""
    reason = _error_reason(error)
    return [ack(row, operation, ok=False, retryable=True, reason=reason) for row in rows]


@contextmanager
def open_klaviyo(environ: Mapping[str, str]) -> Iterator[tuple[KlaviyoDestination, HttpClient]]:
    """The destination and its one HTTP client, from the environment; the client is closed
    afterwards.

    Raises:
        KlaviyoConfigError: KLAVIYO_API_KEY is missing or a setting is invalid.
    """
    settings = KlaviyoSettings.from_env(environ)
    with settings.client() as client:
        polling = JobPolling(first_look=settings.poll_interval / 4, time_scale=time_scale())
        destination = KlaviyoDestination(client, polling=polling)
        yield destination, client


REGISTRATION = Registration(
    name=NAME,
    options=KlaviyoOptions,
    required_env=("KLAVIYO_API_KEY",),
    max_trait_bytes=MAX_PROFILE_BYTES,
    open=open_klaviyo,
    consent_channels=("email",),
)
