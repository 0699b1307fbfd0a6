"""The sync ledger: what each destination acknowledged, written only from acknowledgements.

A destination reports one `RowAck` per row as the vendor confirms it; the runner hands them here.
Successful adds and updates put the row's key and traits hash in the ledger, successful removes
take it out, and failures go to `sync_row_errors` with an attempt count and the reason. Nothing
reaches the ledger before the destination confirmed it, so the next plan (desired state minus
ledger) retries exactly what did not land. Before a batch goes out its rows are recorded as
intents (`sync_pending`): when an answer is lost (a crash, a timeout after the vendor acted), the
planner knows the vendor may hold them and removes or re-adds them as membership requires.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Literal

import pyarrow as pa
from sqlalchemy.engine import Connection

from activations.bulk import insert_arrow
from activations.queries import count_of, statement
from activations.rows import RowAck, RowIntent

EventOutcome = Literal["sent", "skipped"]


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
    """Apply a batch of acknowledgements to the ledger and the error table.

    The batch is bulk-loaded into `sync_ack_batches` and applied with set-based statements, so a
    100,000-row sync spends milliseconds here rather than minutes of single-row statements.
    """
    if not acks:
        return
    batch_id = uuid.uuid4().hex
    insert_arrow(connection, state_schema, "sync_ack_batches", _ack_table(batch_id, acks))
    now = _now()
    scope = {"destination": destination, "segment": segment, "batch_id": batch_id}
    for name, values in (
        ("update_ack_batch_attempts", scope),
        ("delete_row_errors_acked", scope),
        ("delete_ledger_rows_acked", scope),
        ("delete_pending_acked", scope),
        ("insert_ledger_rows_acked", {**scope, "synced_at": now}),
        ("insert_row_errors_acked", {**scope, "last_attempt_at": now}),
        ("delete_ack_batch", {"batch_id": batch_id}),
    ):
        connection.execute(statement(connection, name, state_schema=state_schema), values)


def record_intents(
    connection: Connection,
    *,
    state_schema: str,
    destination: str,
    segment: str,
    intents: Sequence[RowIntent],
) -> None:
    """Record rows as sent-but-unconfirmed before the request goes out (see sync_pending)."""
    if not intents:
        return
    count = len(intents)
    rows = pa.table(
        {
            "destination": pa.array([destination] * count, pa.string()),
            "segment": pa.array([segment] * count, pa.string()),
            "destination_key": pa.array([i.destination_key for i in intents], pa.string()),
            "person_id": pa.array([i.person_id for i in intents], pa.string()),
            "operation": pa.array([i.operation for i in intents], pa.string()),
            "traits_hash": pa.array([i.traits_hash for i in intents], pa.string()),
            "sent_at": pa.array([_now()] * count, pa.timestamp("us")),
        }
    )
    insert_arrow(connection, state_schema, "sync_pending", rows)


def _ack_table(batch_id: str, acks: Sequence[RowAck]) -> pa.Table:
    return pa.table(
        {
            "batch_id": pa.array([batch_id] * len(acks), pa.string()),
            "destination_key": pa.array([a.destination_key for a in acks], pa.string()),
            "person_id": pa.array([a.person_id for a in acks], pa.string()),
            "operation": pa.array([a.operation for a in acks], pa.string()),
            "traits_hash": pa.array([a.traits_hash for a in acks], pa.string()),
            "ok": pa.array([a.ok for a in acks], pa.bool_()),
            "retryable": pa.array([a.retryable for a in acks], pa.bool_()),
            "reason": pa.array([a.reason for a in acks], pa.string()),
            "attempts": pa.array([None if a.ok else 1 for a in acks], pa.int32()),
        }
    )


def record_event_acks(
    connection: Connection,
    *,
    state_schema: str,
    destination: str,
    event_ids: Iterable[str],
    outcome: EventOutcome = "sent",
    reason: str | None = None,
) -> None:
    """Settle events: `sent` ones the destination accepted, so no retry ever sends them again, and
    `skipped` ones that had no address (with the reason), so they are reported once, not on every
    run. Either way the planner never offers them again."""
    ids = list(event_ids)
    if not ids:
        return
    acks = pa.table(
        {
            "destination": pa.array([destination] * len(ids), pa.string()),
            "event_id": pa.array(ids, pa.string()),
            "acknowledged_at": pa.array([_now()] * len(ids), pa.timestamp("us")),
            "outcome": pa.array([outcome] * len(ids), pa.string()),
            "reason": pa.array([reason] * len(ids), pa.string()),
        }
    )
    insert_arrow(connection, state_schema, "sync_event_acks", acks)


def record_events_sending(
    connection: Connection, *, state_schema: str, destination: str, event_ids: Iterable[str]
) -> None:
    """Events about to be sent: until their acknowledgement is recorded, they are in doubt."""
    ids = list(event_ids)
    if not ids:
        return
    rows = pa.table(
        {
            "destination": pa.array([destination] * len(ids), pa.string()),
            "event_id": pa.array(ids, pa.string()),
            "sent_at": pa.array([_now()] * len(ids), pa.timestamp("us")),
        }
    )
    insert_arrow(connection, state_schema, "sync_events_sending", rows)


def ensure_baseline(
    connection: Connection, *, state_schema: str, destination: str, segment: str, run_id: str
) -> None:
    """Mark `run_id` as where this destination started syncing this segment, if not yet marked.

    Changes recorded up to the baseline are delivered as list membership, not as events.
    """
    scope = {"destination": destination, "segment": segment}
    existing = connection.execute(
        statement(connection, "select_baseline", state_schema=state_schema), scope
    ).first()
    if existing is None:
        connection.execute(
            statement(connection, "insert_baseline", state_schema=state_schema),
            {**scope, "baseline_run_id": run_id, "created_at": _now()},
        )


def recorded_target(
    connection: Connection, *, state_schema: str, destination: str, segment: str
) -> str | None:
    """Where the members the ledger holds for `segment` were synced to (None: not recorded)."""
    found = connection.execute(
        statement(connection, "select_sync_target", state_schema=state_schema),
        {"destination": destination, "segment": segment},
    ).scalar_one_or_none()
    return None if found is None else str(found)


def held_count(connection: Connection, *, state_schema: str, destination: str, segment: str) -> int:
    """Keys the destination holds, or may hold, from `segment` (ledger and unanswered sends)."""
    counted = count_of(connection, "select_held_keys", state_schema=state_schema)
    scope = {"destination": destination, "segment": segment}
    return int(connection.execute(counted, scope).scalar_one())


def settle_target(
    connection: Connection,
    *,
    state_schema: str,
    destination: str,
    segment: str,
    target: str | None,
) -> bool:
    """Record `target` as where `segment`'s members are kept, unless members are still held at
    another one (a move not finished yet). Returns whether `target` is now the recorded one.

    Nothing recorded yet means a first sync, or a ledger from before targets were recorded,
    whose members were synced to the target configured now (the only one there was)."""
    if target is None:
        return True
    scope = {"destination": destination, "segment": segment}
    recorded = recorded_target(connection, state_schema=state_schema, **scope)
    if recorded == target:
        return True
    if recorded is not None and held_count(connection, state_schema=state_schema, **scope):
        return False
    connection.execute(
        statement(connection, "delete_sync_target", state_schema=state_schema), scope
    )
    connection.execute(
        statement(connection, "insert_sync_target", state_schema=state_schema),
        {**scope, "target": target, "recorded_at": _now()},
    )
    return True


def record_profile_ids(
    connection: Connection, *, state_schema: str, destination: str, ids: Mapping[str, str]
) -> None:
    """Remember the destination's own id for each key (e.g. Klaviyo profile ids by email)."""
    _apply_key_batch(
        connection,
        state_schema,
        ids,
        ("delete_destination_profiles_batch", "insert_destination_profiles_batch"),
        {"destination": destination},
    )


def record_consents(
    connection: Connection,
    *,
    state_schema: str,
    destination: str,
    channel: str,
    statuses: Mapping[str, str],
) -> None:
    """Remember consent the destination acknowledged, per address ('subscribed' or
    'unsubscribed'), so it is granted once and only what cohortflow granted is withdrawn."""
    _apply_key_batch(
        connection,
        state_schema,
        statuses,
        ("delete_sync_consents_batch", "insert_sync_consents_batch"),
        {"destination": destination, "channel": channel},
    )


def _apply_key_batch(
    connection: Connection,
    state_schema: str,
    values: Mapping[str, str],
    statements: tuple[str, str],
    scope: Mapping[str, str],
) -> None:
    """Replace the rows of `values`' keys with these values, in bulk."""
    if not values:
        return
    batch_id = uuid.uuid4().hex
    batch = pa.table(
        {
            "batch_id": pa.array([batch_id] * len(values), pa.string()),
            "destination_key": pa.array(list(values), pa.string()),
            "value": pa.array(list(values.values()), pa.string()),
        }
    )
    insert_arrow(connection, state_schema, "sync_key_batches", batch)
    parameters = {**scope, "batch_id": batch_id, "now": _now()}
    for name in (*statements, "delete_key_batch"):
        connection.execute(statement(connection, name, state_schema=state_schema), parameters)
