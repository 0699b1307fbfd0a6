"""The rows a sync moves: planned by the planner, sent by a destination, recorded by the ledger.

`SegmentWork` and `ConsentWork` are what the planner hands a destination for one segment and for
an account's consent; the row types inside them are what destinations report back.

They live below all three so that none of them imports another for a data type: a vendor module
depends on this module and `destinations.base`, never on the planner's or the ledger's code.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

# How a segment identifies a person at its destinations (`key:` in its YAML).
DestinationKey = Literal["email", "phone", "person_id"]
Operation = Literal["add", "remove", "update"]
Change = Literal["entered", "exited"]
# A marketing consent channel, and the address a contact holds it on.
Channel = Literal["email", "sms"]
CONSENT_ADDRESS: Mapping[Channel, DestinationKey] = {"email": "email", "sms": "phone"}


@dataclass(frozen=True)
class PlanRow:
    """One row to add, remove or update at a destination."""

    destination_key: str
    person_id: str
    traits_hash: str


@dataclass(frozen=True)
class Member:
    """A row to upsert at a destination: who, how to address them, and the segment's traits."""

    destination_key: str
    person_id: str
    traits_hash: str
    email: str | None
    phone: str | None
    traits: Mapping[str, Any]


@dataclass(frozen=True)
class Event:
    """An enter/exit event for flows; `event_id` is stable, so a re-send can never duplicate.

    `email` and `phone` are where the event goes, chosen by the planner: for an exit, the key the
    ledger holds for the person in this segment (the profile in the list, whose flow must stop,
    even if the warehouse has since lost or changed the address); for an enter, the current one.
    A destination is only given events that `address` for the segment's key.

    `sent_at` is set when an earlier sync sent the event and recorded no answer: the vendor may
    hold it already. A vendor that deduplicates by `event_id` (Klaviyo) simply sends it again;
    one that cannot (Omnisend) must find out first."""

    event_id: str
    change: Change
    run_id: str
    occurred_at: datetime
    person_id: str
    email: str | None
    phone: str | None
    traits: Mapping[str, Any]
    sent_at: datetime | None = None

    def address(self, key: DestinationKey) -> str | None:
        """The value identifying the event's profile under the segment's key."""
        return {"email": self.email, "phone": self.phone, "person_id": self.person_id}[key]


@dataclass(frozen=True)
class RowIntent:
    """A row about to be sent: recorded first, so a lost answer leaves it "in doubt", not lost."""

    destination_key: str
    person_id: str
    operation: Operation
    traits_hash: str


@dataclass(frozen=True)
class RowAck:
    """A destination's answer for one row of a plan."""

    destination_key: str
    person_id: str
    operation: Operation
    traits_hash: str
    ok: bool
    retryable: bool = False
    reason: str | None = None


@dataclass(frozen=True)
class EventAck:
    """A destination's answer for one event."""

    event_id: str
    ok: bool
    retryable: bool = False
    reason: str | None = None


@dataclass(frozen=True)
class SegmentWork:
    """Everything one destination must do for one segment in this sync."""

    segment: str
    options: Mapping[str, Any]
    key: DestinationKey
    adds: Sequence[Member]
    updates: Sequence[Member]
    removes: Sequence[PlanRow]
    events: Sequence[Event]
    profile_ids: Mapping[str, str] = field(default_factory=dict)
    # The recorded run the plan is as of: a change made again in a later run is a new change
    # (the webhook's record ids tell a re-entry from a re-send by it).
    run_id: str | None = None

    @property
    def empty(self) -> bool:
        return not (self.adds or self.updates or self.removes or self.events)


@dataclass(frozen=True)
class ConsentWork:
    """One channel's marketing consent to grant (warehouse says subscribed) and to withdraw
    (warehouse now says unsubscribed, and cohortflow had granted it): addresses of that channel
    (emails, or E.164 phones for sms)."""

    channel: Channel
    subscribe: Sequence[str]
    unsubscribe: Sequence[str]

    @property
    def empty(self) -> bool:
        return not (self.subscribe or self.unsubscribe)


def intent(row: PlanRow | Member, operation: Operation) -> RowIntent:
    """`row` about to be sent as `operation`."""
    return RowIntent(row.destination_key, row.person_id, operation, row.traits_hash)


def ack(
    row: PlanRow | Member,
    operation: Operation,
    *,
    ok: bool,
    retryable: bool = False,
    reason: str | None = None,
) -> RowAck:
    """A destination's answer for `row`: confirmed (`ok`), or refused with a reason and whether
    the next sync should try again."""
    return RowAck(
        destination_key=row.destination_key,
        person_id=row.person_id,
        operation=operation,
        traits_hash=row.traits_hash,
        ok=ok,
        retryable=retryable,
        reason=reason,
    )
