"""The main job as a plain function: raw checks -> phone lookup -> dbt build -> change detection
-> syncs -> summary.

The CLI's `run` and any other orchestrator call this; Dagster wires the same steps as assets.
Later steps (change detection, checks, syncs) are added here so every entry point runs them.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.engine import Connection

from activations import transform
from activations.changes import RecordedRun, detect_changes, refuse_backfill
from activations.destinations.registry import unavailable_reason
from activations.errors import RawDataError
from activations.instants import refuse_future
from activations.phones import PhoneRefresh, refresh_phone_lookup
from activations.quality.validation import preload_great_expectations
from activations.queries import statement
from activations.raw_contract import RAW_TABLES
from activations.runner import SyncOutcome, sync_all
from activations.segment_config import (
    SegmentConfig,
    load_segment_configs,
    routed_blocks,
    routed_destinations,
)
from activations.settings import Settings
from activations.summary import RunSummary, summarise
from activations.warehouse import connect, require_duckdb_file


@dataclass(frozen=True)
class RunResult:
    """What one run did."""

    as_of: datetime
    phones: PhoneRefresh
    build: transform.BuildReport
    changes: RecordedRun
    syncs: SyncOutcome
    summary: RunSummary


def check_raw_tables(connection: Connection, raw_schema: str) -> None:
    """Raise a one-line error naming every contract table missing from the raw schema."""
    query = statement(connection, "select_raw_tables")
    present = {str(name) for (name,) in connection.execute(query, {"schema": raw_schema})}
    missing = [table.name for table in RAW_TABLES if table.name not in present]
    if missing:
        raise RawDataError(
            f"schema '{raw_schema}' has no table(s) {', '.join(missing)}: load raw data first "
            "(`cohortflow load --raw-dir DIR`, or point COHORTFLOW_RAW_SCHEMA at your loader's "
            "schema)."
        )


def run_pipeline(
    settings: Settings,
    *,
    as_of: datetime,
    on_step: Callable[[str], None] | None = None,
    progress: transform.Progress | None = None,
    environ: Mapping[str, str] | None = None,
    environ_for: Callable[[Mapping[str, SegmentConfig]], Mapping[str, str]] | None = None,
    sync: bool = True,
    allow_future: bool = False,
) -> RunResult:
    """Build every model and its tests as of `as_of`, record segment changes, sync every
    destination the environment has credentials for (unless `sync` is False), summarise.

    `on_step` hears the name of each step as it starts; `progress` hears the dbt build's nodes
    (done, total, name) during the "building models and tests" step only. `environ_for` adds
    to `environ` what depends on the segments once they are read (`run --sandbox` points the
    variables webhook segments name at the local receiver).

    Raises:
        FutureAsOfRefused: `as_of` is later than now and `allow_future` is False.
        SegmentConfigError: a segment's YAML is invalid (nothing is run or recorded).
        RawDataError: raw tables are missing.
        DbtRunError: a model or test failed (no change is recorded).
        BackfillRefused: `as_of` is before the last recorded run (before anything is built).
        WarehouseError: the warehouse does not exist or cannot be reached.
    """
    # Every caller gets the CLI's refusal: one run recorded in the future blocks all later ones.
    refuse_future(as_of, allow_future=allow_future)
    # A mistyped location fails here, in one line, not after the parse.
    require_duckdb_file(settings.warehouse)
    step = on_step or (lambda _: None)
    step("checking segment configuration")
    manifest = transform.parse(settings.warehouse, as_of=as_of, extra_vars=settings.dbt_vars())
    # Every YAML problem, before anything is recorded.
    configs = load_segment_configs(transform.MANIFEST_PATH)
    step("checking raw data")
    with connect(settings.warehouse) as connection:
        check_raw_tables(connection, settings.raw_schema)
        # Before the build: a refused as_of must not replace the models with an older state.
        refuse_backfill(connection, settings.state_schema, as_of)
        step("normalising phones")
        phones = refresh_phone_lookup(
            connection,
            raw_schema=settings.raw_schema,
            state_schema=settings.state_schema,
            default_region=settings.default_phone_region,
        )
    environ = os.environ if environ is None else environ
    if environ_for is not None:
        environ = {**environ, **environ_for(configs)}
    if sync and any(
        unavailable_reason(name, environ, routed_blocks(configs, name)) is None
        for name in routed_destinations(configs)
    ):
        preload_great_expectations()  # the checks before the sync need it; import it meanwhile
    step("building models and tests")
    build = transform.build(
        settings.warehouse,
        as_of=as_of,
        extra_vars=settings.dbt_vars(),
        progress=progress,
        manifest=manifest,
    )
    step("detecting changes")
    with connect(settings.warehouse) as connection:
        changes = detect_changes(
            connection,
            state_schema=settings.state_schema,
            models_schema=transform.MODELS_SCHEMA,
            as_of=as_of,
        )
    syncs = SyncOutcome(reports=(), skipped={})
    if sync:
        syncs = sync_all(
            settings,
            configs=configs,
            environ=environ,
            on_step=step,
        )
    with connect(settings.warehouse) as connection:
        summary = summarise(connection)
    return RunResult(
        as_of=as_of, phones=phones, build=build, changes=changes, syncs=syncs, summary=summary
    )
