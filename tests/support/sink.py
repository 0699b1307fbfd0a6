"""An AckSink that keeps what a destination reported, for tests of one vendor module."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from activations.destinations.base import AckSink, Destination
from activations.rows import Channel, Event, EventAck, RowAck, RowIntent, SegmentWork


@dataclass
class Sink:
    rows_: list[RowAck] = field(default_factory=list)
    events_: list[EventAck] = field(default_factory=list)
    ids: dict[str, str] = field(default_factory=dict)
    subscribed: list[str] = field(default_factory=list)
    intents: list[RowIntent] = field(default_factory=list)
    consent_intents: list[str] = field(default_factory=list)
    events_sent: list[str] = field(default_factory=list)

    def consents_sending(
        self, channel: Channel, *, subscribe: Sequence[str], unsubscribe: Sequence[str]
    ) -> None:
        self.consent_intents.extend([*subscribe, *unsubscribe])

    def sending(self, intents: Sequence[RowIntent]) -> None:
        self.intents.extend(intents)

    def rows(self, acks: Sequence[RowAck]) -> None:
        self.rows_.extend(acks)

    def events_sending(self, events: Sequence[Event]) -> None:
        self.events_sent.extend(event.event_id for event in events)

    def events(self, acks: Sequence[EventAck]) -> None:
        self.events_.extend(acks)

    def profile_ids(self, ids: Mapping[str, str]) -> None:
        self.ids.update(ids)

    def consents(
        self,
        channel: Channel,
        *,
        subscribed: Sequence[str],
        unsubscribed: Sequence[str],
        failed: Sequence[str] = (),
    ) -> None:
        self.subscribed.extend(subscribed)


def send(target: Destination, work: SegmentWork, sink: AckSink) -> None:
    """One segment through `target` as the runner sends it: its exits, then its entries."""
    target.sync_exits(work, sink)
    target.sync_entries(work, sink)
