"""One `as_of` per Dagster run, so the dbt build and change detection agree without config.

An asset whose op config sets `as_of` uses it (the daily schedule pins every such op to the tick).
Unset, the instant is when the run was created, not when a step starts: the dbt build and the
change detection of one run are minutes apart yet get the same instant, from the same record.
A retry or re-execution is a new run created later, so the instant is taken from its root run
(the attempt first launched): a run retried from failure records changes as of the same instant
its parent built segment_membership with.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import dagster as dg

from activations.errors import CohortflowError
from activations.instants import parse_instant


def run_created_at(instance: dg.DagsterInstance, run: dg.DagsterRun) -> datetime:
    """When `run`'s root run (itself, unless it is a retry or re-execution) was created.

    Returns:
        Naive UTC to the second, like every cohortflow instant.

    Raises:
        CohortflowError: the instance has no record of the run (it was deleted).
    """
    record = instance.get_run_record_by_id(run.root_run_id or run.run_id)
    if record is None:  # the root run was deleted: the run's own creation is the best left
        record = instance.get_run_record_by_id(run.run_id)
    if record is None:
        raise CohortflowError(f"Dagster has no record of run {run.run_id}: cannot pick as_of.")
    created = record.create_timestamp
    if created.tzinfo is not None:
        created = created.astimezone(UTC).replace(tzinfo=None)
    return created.replace(microsecond=0)


def run_as_of(instance: dg.DagsterInstance, run: dg.DagsterRun, configured: str | None) -> datetime:
    """The instant a step of `run` computes as of: `configured` (an op's `as_of` config) when
    set and not blank, else `run_created_at`.

    Raises:
        CohortflowError: `configured` is not ISO-8601, or the run has no record.
    """
    if configured and configured.strip():
        return parse_instant(configured)
    return run_created_at(instance, run)


def configured_as_of(run: dg.DagsterRun, op_name: str) -> str | None:
    """The `as_of` that `run`'s run config gives op `op_name`, if any.

    Lets one asset learn the instant another asset of a (possibly earlier) run was computed as
    of: `run_as_of(instance, run, configured_as_of(run, op))` is what that op resolved.
    """
    ops = _mapping(_mapping(run.run_config).get("ops"))
    value = _mapping(_mapping(ops.get(op_name)).get("config")).get("as_of")
    return value if isinstance(value, str) else None


def configured_allow_future(run: dg.DagsterRun, op_name: str) -> bool:
    """Whether `run`'s run config lets op `op_name` compute as of an instant in the future."""
    ops = _mapping(_mapping(run.run_config).get("ops"))
    return _mapping(_mapping(ops.get(op_name)).get("config")).get("allow_future") is True


def _mapping(value: object) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}
