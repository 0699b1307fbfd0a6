"""Webhook: a segment's membership changes, and optionally its enter/exit events, as signed JSON
batches posted to any URL (a partner, an internal service, a no-code tool).

What a sync sends (docs/destinations/webhook.md), exits for every segment before entries for any:
1. `membership` batches of removes, then `events` batches of "exited" events (`events: true`);
2. `membership` batches of adds and trait updates, then `events` batches of "entered" events.

Every batch is one POST of compact JSON, signed over its raw bytes and a timestamp
(`activations.webhook_signature`) and acknowledged by any 2xx. Delivery is at least once: a batch
whose answer was lost is sent again by the next sync, so each record carries a stable `id` and
each batch a `batch_id` derived from its records' ids. A receiver deduplicates by record id (or
by batch id: a batch sent again unchanged has the same one). Why content-derived ids rather than
stored ones: nothing has to be remembered between syncs for them to match, and a re-sent event
keeps its change log id whatever else the next sync sends with it.

Per segment the receiver is `url_env` and `secret_env`, the names of environment variables (a
URL often carries a token, and a secret must never sit in the dbt project): each segment can post
to its own partner, and one partner refusing the signature fails that segment only. A variable
some segment names that is unset skips the webhook with the reason, as a missing API key skips a
vendor. To rotate a secret, the variable holds the new and the old one separated by a space:
every delivery is signed with both until the old one is removed.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from itertools import groupby
from typing import Annotated, Any, Literal
from urllib.parse import unquote, urlsplit

from pydantic import Field

from activations.destinations.base import AckSink, Registration
from activations.destinations.batching import chunks
from activations.destinations.environment import positive_seconds
from activations.destinations.options import DestinationOptions, parse_options
from activations.errors import CohortflowError
from activations.http import AuthError, ClientError, HttpClient, RetryableError
from activations.rows import (
    DestinationKey,
    Event,
    EventAck,
    Member,
    Operation,
    PlanRow,
    SegmentWork,
    ack,
    intent,
)
from activations.secrets import Secret
from activations.webhook_signature import BATCH_ID_HEADER, SIGNATURE_HEADER, signature_header

NAME = "webhook"
USER_AGENT = "cohortflow-webhook/1"
DEFAULT_BATCH_SIZE = 500
MIN_SECRET_LENGTH = 16
MIN_TOKEN_PATH = 8  # a path or query shorter than this ("/in", "/hooks") is not a credential
LOOPBACK_HOSTS = frozenset({"localhost", "127.0.0.1", "::1"})
ENV_NAME = r"^[A-Za-z_][A-Za-z0-9_]*$"
BatchType = Literal["membership", "events"]


class WebhookConfigError(CohortflowError):
    """A segment's receiver cannot be used: its variables are unset or hold unusable values."""


class WebhookOptions(DestinationOptions):
    """A segment's `destinations.webhook` block (docs/destinations/webhook.md)."""

    url_env: Annotated[str, Field(pattern=ENV_NAME, examples=["PARTNER_URL"])]
    secret_env: Annotated[str, Field(pattern=ENV_NAME, examples=["PARTNER_SECRET"])]
    events: bool = False
    batch_size: Annotated[int, Field(ge=1, le=10_000)] = DEFAULT_BATCH_SIZE


@dataclass(frozen=True)
class Receiver:
    """Where one segment's batches go and what they are signed with (every secret, while one
    is being rotated). Neither is in its repr: the URL often carries the receiver's token."""

    url: str = field(repr=False)
    secrets: tuple[Secret, ...] = field(repr=False)

    @classmethod
    def from_env(
        cls, environ: Mapping[str, str], segment: str, options: WebhookOptions
    ) -> Receiver:
        """The receiver `options` name, read from the environment.

        Raises:
            WebhookConfigError: a variable is unset, the URL is not absolute https (plain http
                only to this machine), or the secret is shorter than 16 characters.
        """
        url = environ.get(options.url_env, "").strip()
        secrets = environ.get(options.secret_env, "").split()
        values = {options.url_env: url, options.secret_env: " ".join(secrets)}
        missing = [name for name, value in values.items() if not value]
        if missing:
            raise WebhookConfigError(
                f"segment {segment}: {' and '.join(missing)} not set: export the receiver's "
                "URL and the signing secret shared with it to sync this segment's webhook."
            )
        parts = urlsplit(url)
        plain_to_loopback = parts.scheme == "http" and parts.hostname in LOOPBACK_HOSTS
        if not parts.hostname or not (parts.scheme == "https" or plain_to_loopback):
            raise WebhookConfigError(
                f"segment {segment}: {options.url_env} must be an absolute https:// URL (plain "
                "http only to localhost): batches carry customer data."
            )
        if any(len(secret) < MIN_SECRET_LENGTH for secret in secrets) or len(secrets) > 2:
            raise WebhookConfigError(
                f"segment {segment}: {options.secret_env} must hold one secret of at least "
                f"{MIN_SECRET_LENGTH} characters (e.g. `openssl rand -hex 32`), or two "
                "separated by a space while one is rotated."
            )
        return cls(url=url, secrets=tuple(Secret(secret) for secret in secrets))

    @property
    def redacted(self) -> list[str]:
        """What logs and errors must not show: the secrets, and the URL's path and query (where
        receivers put their tokens), as written and percent-decoded (httpx logs the decoded
        path). A path too short to hold a token is left readable."""
        parts = urlsplit(self.url)
        hidden = [secret.reveal() for secret in self.secrets]
        for value in (parts.path, parts.query):
            if len(value) >= MIN_TOKEN_PATH:
                hidden.extend({value, unquote(value)})
        return hidden


# ---------------------------------------------------------------- payloads (pure, no I/O)


def _digest(*parts: str) -> str:
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:32]


def record_id(
    segment: str, run_id: str | None, operation: Operation, destination_key: str, traits_hash: str
) -> str:
    """A membership record's id: the same row re-sent for the same recorded run has the same
    one; the same row in a later run (a person who left and came back with the same traits) is
    a new change with a new one, so a receiver deduplicating by id never drops it."""
    return _digest(NAME, segment, run_id or "", operation, destination_key, traits_hash)


def batch_id(segment: str, kind: BatchType, ids: Iterable[str]) -> str:
    """A batch's id, from its records' ids: the same batch re-sent has the same one."""
    return "wh_" + _digest(segment, kind, *ids)


def _iso(instant: datetime) -> str:
    aware = instant if instant.tzinfo is not None else instant.replace(tzinfo=UTC)
    return aware.astimezone(UTC).isoformat().replace("+00:00", "Z")


def membership_record(
    segment: str, run_id: str | None, row: PlanRow | Member, operation: Operation
) -> dict[str, Any]:
    """One add, update or remove; removes carry who, not what (the receiver has the rest)."""
    record: dict[str, Any] = {
        "id": record_id(segment, run_id, operation, row.destination_key, row.traits_hash),
        "run_id": run_id,
        "operation": operation,
        "person_id": row.person_id,
        "key": row.destination_key,
    }
    if isinstance(row, Member):
        record.update(email=row.email, phone=row.phone, traits=dict(row.traits))
    return record


def event_record(event: Event, key: DestinationKey) -> dict[str, Any]:
    """One enter/exit event, with the change log's id."""
    return {
        "id": event.event_id,
        "change": event.change,
        "occurred_at": _iso(event.occurred_at),
        "run_id": event.run_id,
        "person_id": event.person_id,
        "key": event.address(key),
        "email": event.email,
        "phone": event.phone,
        "traits": dict(event.traits),
    }


def batch_body(
    segment: str, key: DestinationKey, kind: BatchType, records: Sequence[Mapping[str, Any]]
) -> tuple[str, bytes]:
    """A batch's id and the exact bytes that are signed and sent."""
    identifier = batch_id(segment, kind, (str(record["id"]) for record in records))
    payload = {
        "batch_id": identifier,
        "segment": segment,
        "keyed_by": key,
        "type": kind,
        "records": list(records),
    }
    body = json.dumps(payload, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
    return identifier, body.encode()


def _membership_batches(
    work: SegmentWork,
    rows: Sequence[tuple[PlanRow | Member, Operation]],
    size: int,
) -> Iterator[Sequence[tuple[PlanRow | Member, Operation, dict[str, Any]]]]:
    """Rows in batches ordered by record id, so the same rows always make the same batches."""
    records = sorted(
        (
            (row, operation, membership_record(work.segment, work.run_id, row, operation))
            for row, operation in rows
        ),
        key=lambda item: item[2]["id"],
    )
    yield from chunks(records, size)


def _event_batches(events: Sequence[Event], size: int) -> Iterator[Sequence[Event]]:
    """Events an earlier sync sent without an answer first, batched as they were sent then (one
    recorded send time per batch), so a re-sent batch keeps its id; then the new ones."""
    in_doubt = sorted(
        (event for event in events if event.sent_at is not None),
        key=lambda event: (event.sent_at, event.event_id),
    )
    for _, group in groupby(in_doubt, key=lambda event: event.sent_at):
        yield from chunks(list(group), size)
    fresh = sorted((event for event in events if event.sent_at is None), key=lambda e: e.event_id)
    yield from chunks(fresh, size)


# ---------------------------------------------------------------- the destination


class WebhookDestination:
    """Posts each segment's changes to its receiver (see the module docstring)."""

    name = NAME

    def __init__(self, client: HttpClient, environ: Mapping[str, str]) -> None:
        self.client = client
        self.environ = environ

    def check_options(self, options: Mapping[str, Mapping[str, Any]]) -> None:
        for segment, block in options.items():
            parse_options(WebhookOptions, segment, block)

    def sync_exits(self, work: SegmentWork, sink: AckSink) -> None:
        options, receiver = self._receiver(work)
        removes: list[tuple[PlanRow | Member, Operation]] = [(r, "remove") for r in work.removes]
        self._send_membership(work, receiver, removes, options.batch_size, sink)
        exits = [event for event in work.events if event.change == "exited"]
        self._send_events(work, receiver, exits, options.batch_size, sink)

    def sync_entries(self, work: SegmentWork, sink: AckSink) -> None:
        options, receiver = self._receiver(work)
        rows: list[tuple[PlanRow | Member, Operation]] = [
            *((member, "add") for member in work.adds),
            *((member, "update") for member in work.updates),
        ]
        self._send_membership(work, receiver, rows, options.batch_size, sink)
        entries = [event for event in work.events if event.change == "entered"]
        self._send_events(work, receiver, entries, options.batch_size, sink)

    def _receiver(self, work: SegmentWork) -> tuple[WebhookOptions, Receiver]:
        options = parse_options(WebhookOptions, work.segment, work.options)
        receiver = Receiver.from_env(self.environ, work.segment, options)
        self.client.redact_also(receiver.redacted)
        return options, receiver

    def _send_membership(
        self,
        work: SegmentWork,
        receiver: Receiver,
        rows: Sequence[tuple[PlanRow | Member, Operation]],
        size: int,
        sink: AckSink,
    ) -> None:
        for batch in _membership_batches(work, rows, size):
            sink.sending([intent(row, operation) for row, operation, _ in batch])
            records = [record for _, _, record in batch]
            failure = self._post(work, receiver, "membership", records)
            sink.rows(
                [
                    ack(row, operation, ok=failure is None, retryable=True, reason=failure)
                    for row, operation, _ in batch
                ]
            )

    def _send_events(
        self,
        work: SegmentWork,
        receiver: Receiver,
        events: Sequence[Event],
        size: int,
        sink: AckSink,
    ) -> None:
        for batch in _event_batches(events, size):
            sink.events_sending(batch)
            records = [event_record(event, work.key) for event in batch]
            failure = self._post(work, receiver, "events", records)
            sink.events(
                [
                    EventAck(event.event_id, ok=failure is None, retryable=True, reason=failure)
                    for event in batch
                ]
            )

    def _post(
        self,
        work: SegmentWork,
        receiver: Receiver,
        kind: BatchType,
        records: Sequence[Mapping[str, Any]],
    ) -> str | None:
        """Post one batch: None when the receiver acknowledged it, else the reason the next
        sync sends it again.

        Raises:
            CohortflowError: the receiver refused the signature (401/403), or stayed unreachable
                or overloaded through every retry: nothing more is sent to it this sync.
        """
        identifier, body = batch_body(work.segment, work.key, kind, records)
        secrets = [secret.reveal() for secret in receiver.secrets]

        def signed(content: bytes) -> dict[str, str]:
            return {SIGNATURE_HEADER: signature_header(secrets, int(time.time()), content)}

        try:
            self.client.request(
                "POST",
                receiver.url,
                content=body,
                headers={
                    "Content-Type": "application/json",
                    "User-Agent": USER_AGENT,
                    BATCH_ID_HEADER: identifier,
                },
                attempt_headers=signed,
            )
        except AuthError as error:
            raise WebhookConfigError(
                f"the receiver refused the signature ({error.status}): check that its secret "
                "matches the segment's secret_env, that the URL's token is current, and that "
                "this machine's clock is right (receivers refuse signatures over 5 minutes old)"
            ) from None
        except ClientError as error:
            return f"receiver answered {error.status}"
        except RetryableError as error:
            raise CohortflowError(f"receiver unavailable: {error}") from None
        return None


@contextmanager
def open_webhook(environ: Mapping[str, str]) -> Iterator[tuple[WebhookDestination, HttpClient]]:
    """The destination and its one HTTP client (each request names its receiver's full URL).

    Raises:
        SettingError: COHORTFLOW_HTTP_TIMEOUT is not a positive number.
    """
    timeout = positive_seconds(environ, "COHORTFLOW_HTTP_TIMEOUT", 30.0)
    with HttpClient("", account=NAME, timeout=timeout) as client:
        yield WebhookDestination(client, environ), client


def receiver_env(block: Mapping[str, Any]) -> tuple[str, ...]:
    """The variables a segment's block names: a run without them skips the webhook, as one
    without an API key skips a vendor."""
    return tuple(str(block[name]) for name in ("url_env", "secret_env") if block.get(name))


REGISTRATION = Registration(
    name=NAME, options=WebhookOptions, open=open_webhook, segment_env=receiver_env
)
