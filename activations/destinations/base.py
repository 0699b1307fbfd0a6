"""What every destination implements, and what it is given and gives back.

A destination receives one segment's work at a time (`activations.rows.SegmentWork`, built by the
planner: the plan's rows with the contact details and traits to send) and reports what the vendor
acknowledged through an `AckSink`, batch by batch, as the acknowledgements arrive. The runner owns
the sink and writes the ledger; a destination never touches the warehouse, never builds an HTTP
client, and makes no call for an empty plan. Row failures are reported as acknowledgements
(`ok=False`, retryable or permanent); only failures of the whole destination (bad credentials,
an unreachable host) are raised.

Why a sink rather than `apply(batch) -> acks`: a Klaviyo bulk import is one request whose
per-profile outcome is known only after polling the job, and list removals need profile ids the
vendor has to be asked for. Letting the destination drive its own call sequence while reporting
each acknowledgement as soon as it is confirmed keeps the vendor's shape in the vendor's module
and still records progress incrementally, so a crash mid-sync loses at most one batch's
acknowledgements (which the next run re-sends idempotently).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from activations.destinations.options import DestinationOptions
from activations.http import HttpClient
from activations.reports import SyncReport
from activations.rows import Channel, ConsentWork, Event, EventAck, RowAck, RowIntent, SegmentWork

if TYPE_CHECKING:  # both read the registry: only their names are needed here
    from activations.segment_config import SegmentConfig
    from activations.settings import Settings


class AckSink(Protocol):
    """Where a destination reports what it is about to send and what was acknowledged; each call
    is recorded before it returns."""

    def sending(self, intents: Sequence[RowIntent]) -> None:
        """Rows about to go out (call before the request): a lost answer leaves them in doubt,
        and the planner removes or re-adds them as membership requires."""

    def rows(self, acks: Sequence[RowAck]) -> None: ...

    def events_sending(self, events: Sequence[Event]) -> None:
        """Events about to go out (call before the request): a lost answer leaves them in doubt,
        and the next sync is told when they were sent (`Event.sent_at`)."""

    def events(self, acks: Sequence[EventAck]) -> None: ...

    def profile_ids(self, ids: Mapping[str, str]) -> None: ...

    def consents_sending(
        self, channel: Channel, *, subscribe: Sequence[str], unsubscribe: Sequence[str]
    ) -> None:
        """One channel's consent changes about to go out (call before the request)."""

    def consents(
        self,
        channel: Channel,
        *,
        subscribed: Sequence[str],
        unsubscribed: Sequence[str],
        failed: Sequence[str] = (),
    ) -> None:
        """Consent changes the vendor confirmed, and those it did not (`failed`: planned again
        by the next sync, and counted so a sync that missed some is not taken for done)."""


class Destination(Protocol):
    """One vendor. `name` is the key segments use under `destinations:`."""

    name: str

    def check_options(self, options: Mapping[str, Mapping[str, Any]]) -> None:
        """Raise a one-line error naming the segment when the options of the segments routed
        here (by segment) cannot be synced, alone or together."""

    def sync_exits(self, work: SegmentWork, sink: AckSink) -> None:
        """Send `work`'s exits (exit events, removals). The runner calls this for every segment
        of the sync before any `sync_entries`."""

    def sync_entries(self, work: SegmentWork, sink: AckSink) -> None:
        """Send `work`'s entries (adds, updates, enter events)."""


class ConsentDestination(Destination, Protocol):
    """A destination that also carries marketing consent (Klaviyo's subscribe jobs)."""

    def sync_consents(self, work: ConsentWork, sink: AckSink) -> None: ...


OpenDestination = Callable[
    [Mapping[str, str]], AbstractContextManager[tuple[Destination, HttpClient]]
]


class RunDestination(Protocol):
    """A destination's own sync, for one whose sends do not fit the segment-and-acknowledgement
    protocol (SMS: nothing is held at Twilio, each text is decided when it is due). It fills
    `report` with one segment report per routed segment (held ones `blocked`, with the hold's
    reason) and raises `CohortflowError` when it cannot sync at all."""

    def __call__(
        self,
        settings: Settings,
        routed: Mapping[str, SegmentConfig],
        holds: Mapping[str, str],
        environ: Mapping[str, str],
        report: SyncReport,
    ) -> None: ...


@dataclass(frozen=True)
class Registration:
    """Everything cohortflow knows about a destination, in one place: the only thing a new
    vendor adds outside its own module is its line in `registry.REGISTRATIONS`.

    Attributes:
        name: the key segments use under `destinations:`.
        options: the schema of that block (validated when segments are read).
        required_env: variables that must be set before it can be synced at all.
        max_trait_bytes: the largest traits the vendor accepts per profile (None: no documented
            limit); the payload checks hold a segment whose traits pass it.
        open: builds the destination and its one HTTP client from the environment (raising a
            one-line error when the settings are invalid), for the generic sync.
        consent_channels: the marketing consent channels its `sync_consents` writes (none for a
            destination that carries no consent).
        run: the destination's own sync, instead of `open` and the generic one (exactly one of
            the two is given).
        segment_env: the variables one segment's block names (a webhook's `url_env` and
            `secret_env`), required like `required_env` for every segment routed there.
    """

    name: str
    options: type[DestinationOptions]
    required_env: tuple[str, ...] = ()
    max_trait_bytes: int | None = None
    open: OpenDestination | None = None
    consent_channels: tuple[Channel, ...] = ()
    run: RunDestination | None = None
    segment_env: Callable[[Mapping[str, Any]], tuple[str, ...]] | None = None

    def __post_init__(self) -> None:
        if (self.open is None) == (self.run is None):
            raise ValueError(f"destination {self.name}: give exactly one of `open` and `run`")
