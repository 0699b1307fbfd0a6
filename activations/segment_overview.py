"""One segment as a marketer asks about it: what it is for, how big it is now, how it moved run by
run, a few of its members and what each destination holds of it.

Hightouch and Census show an audience's size, a preview and its history beside its definition;
`cohortflow segments show` answers the same questions from the warehouse, without SQL. Sizes over
runs are accumulated from the change log (every run's entered minus exited), so they are exactly
what change detection recorded, not a recount of today's model.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.engine import Connection

from activations.quality.gate import mask
from activations.queries import statement
from activations.readiness import present_tables
from activations.segment_config import SegmentConfig
from activations.transform import MODELS_SCHEMA

MEMBERSHIP_TABLE = "segment_membership"
STATE_TABLES = ("membership_runs", "membership_change_log", "sync_ledger")


@dataclass(frozen=True)
class RunSize:
    """The segment after one recorded run."""

    run_id: str
    as_of: datetime
    entered: int
    exited: int
    updated: int
    size: int


@dataclass(frozen=True)
class DestinationState:
    """What one destination acknowledged of the segment (sync_ledger)."""

    destination: str
    synced: int
    last_synced_at: datetime | None


@dataclass(frozen=True)
class SegmentOverview:
    """Everything `segments show` prints; addresses in `sample` are already masked."""

    config: SegmentConfig
    size: int | None
    sample: tuple[dict[str, Any], ...]
    runs: tuple[RunSize, ...]
    destinations: tuple[DestinationState, ...]

    @property
    def built(self) -> bool:
        """Whether the warehouse has segment models at all (`cohortflow run` has built them)."""
        return self.size is not None

    def as_dict(self) -> dict[str, Any]:
        config = self.config
        return {
            "segment": config.segment,
            "key": config.key,
            "traits": list(config.traits),
            "destinations": [
                {
                    "name": target.name,
                    "options": target.options,
                    "max_exit_fraction": target.max_exit_fraction,
                }
                for target in config.destinations
            ],
            "built": self.built,
            "size": self.size,
            "sample": list(self.sample),
            "runs": [
                {
                    "run_id": run.run_id,
                    "as_of": f"{run.as_of:%Y-%m-%dT%H:%M:%S}",
                    "entered": run.entered,
                    "exited": run.exited,
                    "updated": run.updated,
                    "size": run.size,
                }
                for run in self.runs
            ],
            "synced": [
                {
                    "destination": state.destination,
                    "synced": state.synced,
                    "last_synced_at": (
                        f"{state.last_synced_at:%Y-%m-%dT%H:%M:%S}"
                        if state.last_synced_at
                        else None
                    ),
                }
                for state in self.destinations
            ],
        }


def overview(
    connection: Connection,
    config: SegmentConfig,
    *,
    state_schema: str,
    sample_size: int = 5,
    run_count: int = 10,
) -> SegmentOverview:
    """The segment's current size, a masked sample, its last `run_count` runs and ledger counts.

    A warehouse without models yet gives `size=None` and no sample; one without recorded runs gives
    no runs: both are states a new user meets, not errors.
    """
    segment = {"segment": config.segment}
    size: int | None = None
    sample: tuple[dict[str, Any], ...] = ()
    if MEMBERSHIP_TABLE in present_tables(connection, MODELS_SCHEMA):
        query = statement(connection, "select_segment_size", models_schema=MODELS_SCHEMA)
        size = int(connection.execute(query, segment).scalar_one())
        rows = connection.execute(
            statement(connection, "select_segment_sample", models_schema=MODELS_SCHEMA),
            {**segment, "limit": sample_size},
        )
        sample = tuple(_masked(row._mapping) for row in rows)
    runs: tuple[RunSize, ...] = ()
    destinations: tuple[DestinationState, ...] = ()
    if set(STATE_TABLES) <= present_tables(connection, state_schema):
        rows = connection.execute(
            statement(connection, "select_segment_run_changes", state_schema=state_schema),
            segment,
        )
        runs = _accumulated(rows)[-run_count:][::-1]
        synced = connection.execute(
            statement(connection, "select_segment_synced", state_schema=state_schema), segment
        )
        destinations = tuple(
            DestinationState(row.destination, int(row.synced), row.last_synced_at) for row in synced
        )
    return SegmentOverview(config, size, sample, runs, destinations)


def _accumulated(rows: Any) -> tuple[RunSize, ...]:
    """Sizes after each run, oldest first: the first run records every member as entered."""
    size = 0
    out = []
    for run_id, as_of, entered, exited, updated in rows:
        size += int(entered) - int(exited)
        out.append(RunSize(str(run_id), as_of, int(entered), int(exited), int(updated), size))
    return tuple(out)


def _masked(row: Any) -> dict[str, Any]:
    traits = row["traits"]
    return {
        "person_id": row["person_id"],
        "email": mask(row["email"]),
        "phone": mask(row["phone"]),
        "traits": json.loads(traits) if isinstance(traits, str) else traits,
    }
