"""The recorded runs, and the one supported way back from a wrong one: undoing the last run.

Change detection only moves forward (`BackfillRefused`), so a run recorded with a wrong `as_of`
(a typo in the future, say) would block every later run. `undo_last_run` removes the last
recorded run and its changes and puts the snapshot and the history back exactly as they were
before it, so the next `cohortflow run` diffs against the run before. It refuses once anything
of the run may have reached a destination: an ESP that received the run's adds, removes or
events cannot be un-told, and a ledger rewound under it would make the next sync wrong.

Everything it restores is derived from the change log, which holds every entry, exit and update
with its traits hash: an exit's row carries the hash the member left with, and an update's
previous hash is that of the member's latest earlier entry or update. No extra state is kept
for undo.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.engine import Connection, Row

from activations.errors import CohortflowError
from activations.migrations import migrate
from activations.queries import statement
from activations.readiness import present_tables

# Tables with rows keyed by a run id that an undo removes, with the column holding it. The change
# log goes after the snapshot and history are restored from it.
_RUN_KEYED = (
    ("sync_baselines", "baseline_run_id"),
    ("check_results", "run_id"),
    ("membership_change_log", "run_id"),
    ("membership_run_segments", "run_id"),
    ("membership_runs", "run_id"),
)


class UndoRefused(CohortflowError):
    """The run cannot be undone; nothing was changed."""


@dataclass(frozen=True)
class RunRecord:
    """One recorded run and whether anything reached a destination while it was the last."""

    run_id: str
    as_of: datetime
    recorded_at: datetime
    entered: int
    exited: int
    updated: int
    synced: bool

    def as_dict(self) -> dict[str, object]:
        return {
            "run_id": self.run_id,
            "as_of": f"{self.as_of:%Y-%m-%dT%H:%M:%S}",
            "recorded_at": f"{self.recorded_at:%Y-%m-%dT%H:%M:%S}",
            "entered": self.entered,
            "exited": self.exited,
            "updated": self.updated,
            "synced": self.synced,
        }


def recorded_runs(
    connection: Connection, state_schema: str, *, limit: int | None = None
) -> list[RunRecord]:
    """The recorded runs, newest first (the last `limit` of them); none before the first run.

    `synced` says whether sync activity was recorded between the run and the next one: one
    query over the sync tables per run returned, so `limit` bounds that work. The ledger keeps
    only each row's latest acknowledgement, so for older runs `False` means "no trace left",
    not proof; for the last run it is what `undo_last_run` checks. Creates nothing.
    """
    rows = _runs(connection, state_schema)[:limit]
    activity = statement(connection, "select_synced_between", state_schema=state_schema)
    return [
        _record(
            row,
            synced=bool(
                connection.execute(
                    activity, {"since": row.recorded_at, "until": row.next_recorded_at}
                ).scalar_one()
            ),
        )
        for row in rows
    ]


def run_ids(connection: Connection, state_schema: str) -> list[str]:
    """Every recorded run's id, newest first; empty before the first run. Creates nothing."""
    return [str(row.run_id) for row in _runs(connection, state_schema)]


def _runs(connection: Connection, state_schema: str) -> list[Row[Any]]:
    if "membership_runs" not in present_tables(connection, state_schema):
        return []
    query = statement(connection, "select_recorded_runs", state_schema=state_schema)
    return list(connection.execute(query).all())


def _record(row: Row[Any], *, synced: bool) -> RunRecord:
    return RunRecord(
        run_id=str(row.run_id),
        as_of=row.as_of,
        recorded_at=row.recorded_at,
        entered=int(row.entered),
        exited=int(row.exited),
        updated=int(row.updated),
        synced=synced,
    )


def undo_last_run(connection: Connection, state_schema: str, run_id: str) -> RunRecord:
    """Remove `run_id`, which must be the last recorded run with nothing of it synced, and
    restore the snapshot and the history to what they were before it.

    Args:
        connection: an open transaction: the undo lands whole or not at all.

    Raises:
        UndoRefused: the run is unknown, not the last, or something of it was synced.
    """
    connection.execute(statement(connection, "lock_membership_state"))
    row = _the_last(_runs(connection, state_schema), run_id)
    migrate(connection, state_schema)  # the sync tables the check reads exist from here on
    activity = connection.execute(
        statement(connection, "select_run_sync_activity", state_schema=state_schema),
        {"since": row.recorded_at},
    ).all()
    reached = [f"{row.n:,} {row.activity}" for row in activity if row.n]
    if reached:
        raise UndoRefused(
            f"run {run_id} cannot be undone: since it was recorded, destinations were synced "
            f"({', '.join(reached)}). A destination cannot be un-told; record the correction "
            "with a new run instead (docs/change-detection.md#undoing-a-run)."
        )
    schema = {"state_schema": state_schema}
    values = {"run_id": run_id}
    for name in ("undo_snapshot_remove", "undo_snapshot_restore"):
        connection.execute(statement(connection, name, **schema), values)
    for name in ("undo_history", "undo_history_reopen"):
        connection.execute(statement(connection, name, **schema), values)
    for table, column in _RUN_KEYED:
        rows = statement(connection, "undo_run_rows", **schema, table=table, column=column)
        connection.execute(rows, values)
    return _record(row, synced=False)


def require_recorded(connection: Connection, state_schema: str, run_id: str) -> None:
    """Raise unless `run_id` is a recorded run, naming the closest id and the last one.

    Raises:
        CohortflowError: no recorded run has that id.
    """
    runs = run_ids(connection, state_schema)
    if run_id not in runs:
        raise CohortflowError(_unknown_run(run_id, runs))


def _unknown_run(run_id: str, runs: list[str]) -> str:
    if not runs:
        return f"no recorded run has id {run_id!r}: no run is recorded yet."
    close = difflib.get_close_matches(run_id, runs, n=1)
    hint = f"did you mean {close[0]}? " if close else ""
    return (
        f"no recorded run has id {run_id!r}; {hint}the last is {runs[0]} (`cohortflow runs list`)."
    )


def _the_last(runs: list[Row[Any]], run_id: str) -> Row[Any]:
    if not runs:
        raise UndoRefused("no run is recorded: there is nothing to undo.")
    found = next((run for run in runs if run.run_id == run_id), None)
    if found is None:
        raise UndoRefused(_unknown_run(run_id, [str(run.run_id) for run in runs]))
    if found is not runs[0]:
        raise UndoRefused(
            f"run {run_id} is not the last recorded run ({runs[0].run_id} is): runs are undone "
            "newest first, one at a time."
        )
    return found
