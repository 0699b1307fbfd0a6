"""The sync ledger: what each destination acknowledged, written only from acknowledgements.

A destination's `apply` returns one `RowAck` per row; the runner hands them here. Successful adds
and updates put the row's key and traits hash in the ledger, successful removes take it out, and
failures go to `sync_row_errors` with an attempt count and the reason. Nothing here is written
before the destination confirmed it, so the next plan (desired state minus ledger) retries exactly
what did not land.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal

from sqlalchemy.engine import Connection

from activations.migrations import migrate
from activations.queries import statement

Operation = Literal["add", "remove", "update"]


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


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def record_acks(
    connection: Connection,
    *,
    state_schema: str,
    destination: str,
    segment: str,
    acks: Sequence[RowAck],
) -> None:
    """Apply a batch of acknowledgements to the ledger and the error table."""
    if not acks:
        return
    migrate(connection, state_schema)
    scope = {"destination": destination, "segment": segment}
    errors = statement(connection, "select_row_errors", state_schema=state_schema)
    attempts = {row.destination_key: int(row.attempts) for row in connection.execute(errors, scope)}
    now = _now()
    keys = [{**scope, "destination_key": ack.destination_key} for ack in acks]
    connection.execute(statement(connection, "delete_row_error", state_schema=state_schema), keys)
    succeeded = [ack for ack in acks if ack.ok]
    if succeeded:
        connection.execute(
            statement(connection, "delete_ledger_row", state_schema=state_schema),
            [{**scope, "destination_key": ack.destination_key} for ack in succeeded],
        )
    kept = [ack for ack in succeeded if ack.operation != "remove"]
    if kept:
        connection.execute(
            statement(connection, "insert_ledger_row", state_schema=state_schema),
            [
                {
                    **scope,
                    "destination_key": a.destination_key,
                    "person_id": a.person_id,
                    "traits_hash": a.traits_hash,
                    "synced_at": now,
                }
                for a in kept
            ],
        )
    failed = [ack for ack in acks if not ack.ok]
    if failed:
        connection.execute(
            statement(connection, "insert_row_error", state_schema=state_schema),
            [
                {
                    **scope,
                    "destination_key": a.destination_key,
                    "person_id": a.person_id,
                    "operation": a.operation,
                    "attempts": attempts.get(a.destination_key, 0) + 1,
                    "retryable": a.retryable,
                    "reason": a.reason or "unknown error",
                    "last_attempt_at": now,
                }
                for a in failed
            ],
        )


def record_event_acks(
    connection: Connection, *, state_schema: str, destination: str, event_ids: Iterable[str]
) -> None:
    """Remember events the destination accepted, so no retry ever sends them again."""
    rows = [
        {"destination": destination, "event_id": event_id, "acknowledged_at": _now()}
        for event_id in event_ids
    ]
    if rows:
        migrate(connection, state_schema)
        connection.execute(
            statement(connection, "insert_event_ack", state_schema=state_schema), rows
        )


def ensure_baseline(
    connection: Connection, *, state_schema: str, destination: str, segment: str, run_id: str
) -> None:
    """Mark `run_id` as where this destination started syncing this segment, if not yet marked.

    Changes recorded up to the baseline are delivered as list membership, not as events.
    """
    migrate(connection, state_schema)
    scope = {"destination": destination, "segment": segment}
    existing = connection.execute(
        statement(connection, "select_baseline", state_schema=state_schema), scope
    ).first()
    if existing is None:
        connection.execute(
            statement(connection, "insert_baseline", state_schema=state_schema),
            {**scope, "baseline_run_id": run_id, "created_at": _now()},
        )
