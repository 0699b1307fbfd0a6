"""Change detection: who entered, left or changed traits in each segment since the last run.

One call compares `analytics.segment_membership` with the snapshot of the previous run, inside the
warehouse, appends the differences to `cohortflow_state.membership_change_log`, moves the
snapshot forward by exactly those differences, and maintains the membership history intervals.
Everything happens in the caller's transaction: a crash at any point leaves the log and the
snapshot as they were, so the next run records the same changes once, never twice or not at all.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlalchemy import bindparam
from sqlalchemy.engine import Connection

from activations.errors import CohortflowError
from activations.failpoints import failpoint
from activations.migrations import migrate
from activations.queries import statement
from activations.readiness import present_tables, require_state

CHANGE_KINDS = ("entered", "exited", "updated")


class BackfillRefused(CohortflowError):
    """A run's as_of is earlier than the last recorded run's."""


@dataclass(frozen=True)
class SegmentChanges:
    """Counts of one segment's changes in one run."""

    entered: int = 0
    exited: int = 0
    updated: int = 0

    @property
    def total(self) -> int:
        return self.entered + self.exited + self.updated


@dataclass(frozen=True)
class RecordedRun:
    """The changes one run recorded, per segment; `skipped`: segments a full run left alone
    because a fast run had already compared them as of a later instant."""

    run_id: str
    as_of: datetime
    segments: dict[str, SegmentChanges] = field(default_factory=dict)
    skipped: tuple[str, ...] = ()

    def total(self, kind: str) -> int:
        return sum(getattr(changes, kind) for changes in self.segments.values())


def new_run_id(as_of: datetime) -> str:
    """A sortable, unique run id: the as_of instant and a random suffix."""
    return f"{as_of:%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:8]}"


def detect_changes(
    connection: Connection,
    *,
    state_schema: str,
    models_schema: str,
    as_of: datetime,
    run_id: str | None = None,
    segments: Collection[str] | None = None,
) -> RecordedRun:
    """Record this run's entered/exited/updated members and advance the snapshot.

    Args:
        connection: an open transaction; nothing is visible to others until it commits.
        state_schema: where the change log, snapshot and history live.
        models_schema: where dbt built segment_membership.
        as_of: the instant the membership was computed as of.
        run_id: the run's id; a new one when omitted.
        segments: compare only these (a fast run: the segments it rebuilt); None compares
            every segment (a full run), except those a fast run already compared as of a later
            instant, which keep their fresher state (`RecordedRun.skipped`).

    Raises:
        BackfillRefused: a full run's `as_of` is earlier than the last full run's, or a fast
            run's earlier than one of its segments' last comparison.
    """
    migrate(connection, state_schema)
    schemas = {"state_schema": state_schema, "models_schema": models_schema}
    connection.execute(statement(connection, "lock_membership_state"))
    compared, skipped = _segments_to_compare(connection, schemas, as_of, segments)
    run_id = run_id or new_run_id(as_of)
    values = {"run_id": run_id, "as_of": as_of}

    diff = statement(connection, "insert_membership_changes", **schemas).bindparams(
        bindparam("segments", expanding=True)
    )
    # An empty IN list is not valid SQL everywhere: a name no segment has stands in for none.
    connection.execute(diff, {**values, "segments": sorted(compared) or [""]})
    failpoint("after_change_log")
    connection.execute(statement(connection, "delete_snapshot_changed", **schemas), values)
    failpoint("after_snapshot_delete")
    connection.execute(statement(connection, "insert_snapshot_changed", **schemas), values)
    failpoint("after_snapshot_insert")
    connection.execute(statement(connection, "insert_history_entered", **schemas), values)
    connection.execute(statement(connection, "update_history_exited", **schemas), values)
    failpoint("after_history")

    recorded = RecordedRun(
        run_id=run_id,
        as_of=as_of,
        segments=_counts(connection, schemas, run_id),
        skipped=tuple(sorted(skipped)),
    )
    connection.execute(
        statement(connection, "insert_membership_run", **schemas),
        {
            **values,
            "recorded_at": datetime.now(UTC).replace(tzinfo=None),
            "scope": "full" if segments is None else "fast",
            **{kind: recorded.total(kind) for kind in CHANGE_KINDS},
        },
    )
    if compared:
        connection.execute(
            statement(connection, "insert_run_segments", **schemas),
            [{**values, "segment": segment} for segment in sorted(compared)],
        )
    failpoint("before_commit")
    return recorded


def _segments_to_compare(
    connection: Connection,
    schemas: dict[str, str],
    as_of: datetime,
    segments: Collection[str] | None,
) -> tuple[set[str], set[str]]:
    """The segments this run compares, and those a full run skips (compared later already).

    Raises:
        BackfillRefused: see `detect_changes`.
    """
    state_schema = schemas["state_schema"]
    last = {
        str(row.segment): row.as_of
        for row in connection.execute(statement(connection, "select_segment_last_as_of", **schemas))
    }
    if segments is None:
        _refuse_backfill(connection, state_schema, as_of)
        later = {name for name, at in last.items() if at is not None and at > as_of}
        return set(last) - later, later
    for segment in sorted(segments):
        at = last.get(segment)
        if at is not None and as_of < at:
            raise BackfillRefused(
                f"as_of {as_of:%Y-%m-%d %H:%M:%S} is before segment {segment}'s last comparison "
                f"(as_of {at:%Y-%m-%d %H:%M:%S}): change detection only moves forward."
            )
    return set(segments), set()


def refuse_backfill(connection: Connection, state_schema: str, as_of: datetime) -> None:
    """Raise when `as_of` is before the last recorded run's: what `detect_changes` would refuse.

    `run` asks before the dbt build, so a refused as_of costs no build and leaves the models as
    the last run built them (a build as of an earlier instant would replace them, and the next
    plan would compare the ledger with the past).

    Raises:
        BackfillRefused: naming the last run, and `runs undo` for a last run that is the mistake.
    """
    if "membership_runs" not in present_tables(connection, state_schema):
        return
    migrate(connection, state_schema)  # a state from before per-segment runs gains their scope
    _refuse_backfill(connection, state_schema, as_of)


def _refuse_backfill(connection: Connection, state_schema: str, as_of: datetime) -> None:
    """A full run may not go before the last full run (a fast run's later instant only makes
    the full run leave that run's segments alone)."""
    last = connection.execute(
        statement(connection, "select_last_full_run", state_schema=state_schema)
    ).first()
    if last is not None and as_of < last.as_of:
        raise BackfillRefused(
            f"as_of {as_of:%Y-%m-%d %H:%M:%S} is before the last recorded run "
            f"({last.run_id}, as_of {last.as_of:%Y-%m-%d %H:%M:%S}): change detection only moves "
            "forward. If that run's as_of is the mistake, `cohortflow runs undo "
            f"{last.run_id}` removes it while nothing of it was synced; to rebuild history, see "
            "docs/change-detection.md#replay-and-backfill."
        )


def _counts(
    connection: Connection, schemas: dict[str, str], run_id: str
) -> dict[str, SegmentChanges]:
    counts: dict[str, dict[str, int]] = {}
    rows = connection.execute(
        statement(connection, "select_run_change_counts", **schemas), {"run_id": run_id}
    )
    for row in rows:
        counts.setdefault(str(row.segment), {})[str(row.change)] = int(row.changes)
    return {segment: SegmentChanges(**kinds) for segment, kinds in sorted(counts.items())}


@dataclass(frozen=True)
class Change:
    """One row of the change log."""

    run_id: str
    as_of: datetime
    segment: str
    person_id: str
    change: str
    traits_hash: str


def last_run_id(connection: Connection, state_schema: str) -> str | None:
    """The most recently recorded run, or None before the first one (the state is current)."""
    row = connection.execute(
        statement(connection, "select_last_membership_run", state_schema=state_schema)
    ).first()
    return None if row is None else str(row.run_id)


def change_counts(
    connection: Connection, *, state_schema: str, run_id: str
) -> dict[str, SegmentChanges]:
    """Entered / exited / updated counts per segment of one recorded run: the totals a cut
    listing of its changes is a part of."""
    return _counts(connection, {"state_schema": state_schema}, run_id)


def list_changes(
    connection: Connection,
    *,
    state_schema: str,
    run_id: str | None = None,
    segment: str | None = None,
    limit: int = 1000,
) -> list[Change]:
    """Rows of the change log, for one run and/or one segment, oldest first.

    Raises:
        StateNotCurrent: no run was recorded yet, or the state needs a migration first.
    """
    require_state(connection, state_schema)
    rows = connection.execute(
        statement(connection, "select_changes", state_schema=state_schema),
        {"run_id": run_id, "segment": segment, "limit": limit},
    )
    return [
        Change(
            run_id=str(row.run_id),
            as_of=row.as_of,
            segment=str(row.segment),
            person_id=str(row.person_id),
            change=str(row.change),
            traits_hash=str(row.traits_hash),
        )
        for row in rows
    ]
