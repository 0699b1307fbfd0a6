"""The SMS outbox in the warehouse: every text cohortflow means to send, and what became of it.

A message is written here before anything is sent (`planned`, or `expired` straight away when its
change is already older than the send window), moves to `sending` in its own committed
transaction before the request goes out, and to `sent` only once Twilio answered with a sid. A
crash between the two leaves the row `sending`: evidence that the text may have gone, which is
settled from Twilio's message list before anything else is sent (`activations/sms/sender.py`).
Every transition is one short transaction: no connection is held while Twilio is called.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal, get_args

import pyarrow as pa
from sqlalchemy import bindparam
from sqlalchemy.engine import Connection

from activations.bulk import insert_arrow
from activations.queries import statement
from activations.transform import MODELS_SCHEMA

Status = Literal[
    "planned",
    "deferred",
    "sending",
    "sent",
    "delivered",
    "undelivered",
    "failed",
    "suppressed",
    "expired",
    "unknown",
]
STATUSES: tuple[Status, ...] = get_args(Status)
FINAL: frozenset[Status] = frozenset(
    {"delivered", "undelivered", "failed", "suppressed", "expired", "unknown"}
)


@dataclass(frozen=True)
class Change:
    """A membership change a segment texts, not in the outbox yet."""

    message_id: str
    person_id: str
    change: str
    recorded_at: datetime
    phone: str | None
    traits: Mapping[str, Any]


@dataclass(frozen=True)
class Planned:
    """A new outbox row."""

    message_id: str
    segment: str
    person_id: str
    change: str
    template: str
    phone: str | None
    body: str | None
    status: Status
    reason_code: str | None
    reason: str | None
    planned_at: datetime
    expires_at: datetime


@dataclass(frozen=True)
class Due:
    """A message whose time has come, with what the rules decide by."""

    message_id: str
    segment: str
    person_id: str
    change: str
    phone: str | None
    body: str | None
    planned_at: datetime
    expires_at: datetime
    consent_status: str | None
    consented_at: datetime | None
    opted_out_at: datetime | None
    opted_out_by: str | None
    timezone: str | None
    still_applies: bool


@dataclass(frozen=True)
class InDoubt:
    """A message sent without a recorded answer."""

    message_id: str
    segment: str
    phone: str
    body: str
    sending_at: datetime


@dataclass(frozen=True)
class Transition:
    """A message's move to `status`, with what that state records."""

    message_id: str
    status: Status
    reason_code: str | None = None
    reason: str | None = None
    send_after: datetime | None = None
    sending_at: datetime | None = None
    sent_at: datetime | None = None
    twilio_sid: str | None = None
    twilio_status: str | None = None
    error_code: int | None = None


def _ids(state_schema: str) -> dict[str, str]:
    return {"state_schema": state_schema, "models_schema": MODELS_SCHEMA}


def new_changes(
    connection: Connection, state_schema: str, segment: str, changes: Sequence[str]
) -> list[Change]:
    """`segment`'s changes of the kinds it texts that have no outbox row yet."""
    if not changes:
        return []
    query = statement(connection, "select_sms_changes", **_ids(state_schema)).bindparams(
        bindparam("changes", expanding=True)
    )
    rows = connection.execute(query, {"segment": segment, "changes": list(changes)})
    return [
        Change(
            message_id=str(row.message_id),
            person_id=str(row.person_id),
            change=str(row.change),
            recorded_at=row.recorded_at,
            phone=row.phone,
            traits=_traits(row.traits),
        )
        for row in rows
    ]


def _traits(value: Any) -> Mapping[str, Any]:
    if value is None:
        return {}
    return json.loads(value) if isinstance(value, str) else dict(value)


def add(connection: Connection, state_schema: str, planned: Sequence[Planned]) -> None:
    """Write new outbox rows (their ids are new: `new_changes` only returns unplanned ones)."""
    if not planned:
        return
    now = planned[0].planned_at

    def column(name: str, kind: pa.DataType) -> pa.Array:
        return pa.array([getattr(p, name) for p in planned], kind)

    text, stamp = pa.string(), pa.timestamp("us")
    table = pa.table(
        {
            **{
                name: column(name, text)
                for name in (
                    "message_id",
                    "segment",
                    "person_id",
                    "change",
                    "template",
                    "phone",
                    "body",
                    "status",
                    "reason_code",
                    "reason",
                )
            },
            "planned_at": column("planned_at", stamp),
            "expires_at": column("expires_at", stamp),
            "updated_at": pa.array([now] * len(planned), stamp),
        }
    )
    insert_arrow(connection, state_schema, "sms_outbox", table)


def due(connection: Connection, state_schema: str, now: datetime) -> list[Due]:
    """Planned and deferred messages due at `now`, oldest first."""
    rows = connection.execute(
        statement(connection, "select_sms_due", **_ids(state_schema)), {"now": now}
    )
    return [
        Due(
            message_id=str(row.message_id),
            segment=str(row.segment),
            person_id=str(row.person_id),
            change=str(row.change),
            phone=row.phone,
            body=row.body,
            planned_at=row.planned_at,
            expires_at=row.expires_at,
            consent_status=row.consent_status,
            consented_at=row.consented_at,
            opted_out_at=row.opted_out_at,
            opted_out_by=row.opted_out_by,
            timezone=row.timezone,
            still_applies=bool(row.still_applies),
        )
        for row in rows
    ]


def recent_sends(
    connection: Connection, state_schema: str, phones: Iterable[str], since: datetime
) -> dict[str, list[datetime]]:
    """When each phone was texted (or may have been) since `since`, across every segment."""
    wanted = sorted(set(phones))
    if not wanted:
        return {}
    query = statement(connection, "select_sms_recent_sends", **_ids(state_schema)).bindparams(
        bindparam("phones", expanding=True)
    )
    sends: dict[str, list[datetime]] = {}
    for row in connection.execute(query, {"phones": wanted, "since": since}):
        sends.setdefault(str(row.phone), []).append(row.sent_at)
    return sends


def in_doubt(connection: Connection, state_schema: str) -> list[InDoubt]:
    """Messages left `sending` by an earlier sync."""
    rows = connection.execute(statement(connection, "select_sms_in_doubt", **_ids(state_schema)))
    return [
        InDoubt(
            message_id=str(row.message_id),
            segment=str(row.segment),
            phone=str(row.phone),
            body=str(row.body),
            sending_at=row.sending_at,
        )
        for row in rows
    ]


def awaiting_status(
    connection: Connection, state_schema: str, since: datetime
) -> list[tuple[str, str]]:
    """(message id, Twilio sid) of messages sent since `since` without a final status."""
    rows = connection.execute(
        statement(connection, "select_sms_awaiting_status", **_ids(state_schema)),
        {"since": since},
    )
    return [(str(row.message_id), str(row.twilio_sid)) for row in rows]


def move(
    connection: Connection, state_schema: str, transitions: Sequence[Transition], now: datetime
) -> None:
    """Apply transitions, each message to its new state."""
    if not transitions:
        return
    connection.execute(
        statement(connection, "update_sms_outbox", **_ids(state_schema)),
        [{**t.__dict__, "updated_at": now} for t in transitions],
    )


def suppress(
    connection: Connection,
    state_schema: str,
    phone: str,
    source: str,
    occurred_at: datetime,
    recorded_at: datetime,
) -> None:
    """Record an opt-out (once): `phone` is not texted again unless a later SMS consent lifts
    it."""
    connection.execute(
        statement(connection, "insert_sms_suppression", **_ids(state_schema)),
        {"phone": phone, "source": source, "occurred_at": occurred_at, "recorded_at": recorded_at},
    )


@dataclass(frozen=True)
class Row:
    """An outbox row as `cohortflow sms outbox` shows it."""

    message_id: str
    segment: str
    person_id: str
    change: str
    phone: str | None
    status: str
    reason_code: str | None
    reason: str | None
    planned_at: datetime
    send_after: datetime | None
    sent_at: datetime | None
    twilio_sid: str | None
    error_code: int | None
    updated_at: datetime


def rows(
    connection: Connection,
    state_schema: str,
    *,
    status: str | None = None,
    segment: str | None = None,
    limit: int = 50,
) -> list[Row]:
    """The most recently updated outbox rows, optionally of one status and one segment."""
    found = connection.execute(
        statement(connection, "select_sms_outbox", **_ids(state_schema)),
        {"status": status, "segment": segment, "limit": limit},
    )
    return [Row(**row._mapping) for row in found]


def counts(connection: Connection, state_schema: str) -> dict[str, int]:
    """How many outbox rows are in each state."""
    found = connection.execute(
        statement(connection, "select_sms_outbox_counts", **_ids(state_schema))
    )
    return {str(row.status): int(row.n) for row in found}


def next_deferred_at(connection: Connection, state_schema: str) -> datetime | None:
    """When the earliest deferred text's window opens (None when nothing is deferred)."""
    found: object = connection.execute(
        statement(connection, "select_sms_next_deferred", **_ids(state_schema))
    ).scalar_one()
    return found if isinstance(found, datetime) else None
