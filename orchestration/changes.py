"""Change detection as an asset: who entered, left or changed traits in each segment.

`membership_changes` runs `activations.changes.detect_changes` after dbt built
segment_membership, as of the instant that build used, and reports the counts as metadata.
"""

# No `from __future__ import annotations` here: Dagster checks the `context` annotation of an
# asset against the class itself and rejects the string PEP 563 leaves (dagster-io/dagster#26837).

from collections.abc import Iterable
from datetime import datetime

import dagster as dg
from dagster import AssetExecutionContext
from dagster_dbt import get_asset_key_for_model
from pydantic import Field

from activations.changes import CHANGE_KINDS, BackfillRefused, RecordedRun, detect_changes
from activations.instants import parse_instant, refuse_future
from activations.transform import MODELS_SCHEMA
from activations.warehouse import connect
from orchestration.dbt import DBT_ASSETS_NAME, cohortflow_dbt_assets
from orchestration.raw import STATE_SOURCE, WAREHOUSE_POOL
from orchestration.resources import WarehouseResource
from orchestration.run_instant import configured_as_of, run_as_of

MEMBERSHIP_CHANGES_KEY = dg.AssetKey([STATE_SOURCE, "membership_changes"])
SEGMENT_MEMBERSHIP_KEY = get_asset_key_for_model([cohortflow_dbt_assets], "segment_membership")
_SEGMENT_MODEL_PREFIX = "seg_"


class ChangeDetectionConfig(dg.Config):
    """Run config for change detection."""

    as_of: str | None = Field(
        default=None,
        description=(
            "ISO-8601 instant the changes are recorded as of; it must be the as_of "
            "segment_membership was built with (set both, as the daily schedule does). Unset: "
            "the as_of of the run that last built segment_membership (this run, in `refresh`)."
        ),
    )
    allow_future: bool = Field(
        default=False,
        description=(
            "Accept an `as_of` more than five minutes in the future (as the dbt build's "
            "`allow_future`). Off by default: one run recorded in the future blocks every later "
            "one."
        ),
    )


def _as_of(context: AssetExecutionContext, config: ChangeDetectionConfig) -> tuple[datetime, str]:
    """The instant segment_membership was built as of, and where that instant came from.

    Normally the dbt build ran earlier in this run and both resolve the same instant. Reading it
    from the run that last materialized segment_membership also keeps a run that materializes
    only this asset (a retry from failure, a click in the UI) from recording the membership of an
    earlier build as of now.
    """
    requested = parse_instant(config.as_of) if config.as_of and config.as_of.strip() else None
    if requested is not None:
        refuse_future(requested, allow_future=config.allow_future)
    event = context.instance.get_latest_materialization_event(SEGMENT_MEMBERSHIP_KEY)
    build_run = None if event is None else context.instance.get_run_by_id(event.run_id)
    if build_run is None:  # no build known to this instance: trust this run
        as_of = requested or run_as_of(context.instance, context.run, None)
        return as_of, "run config" if requested else "this run's creation"
    built = run_as_of(context.instance, build_run, configured_as_of(build_run, DBT_ASSETS_NAME))
    if requested is not None and requested != built:
        raise dg.Failure(
            description=(
                f"as_of {requested:%Y-%m-%d %H:%M:%S} differs from the as_of "
                f"{built:%Y-%m-%d %H:%M:%S} segment_membership was built with (run "
                f"{build_run.run_id}): give {DBT_ASSETS_NAME} and "
                f"{membership_changes.op.name} the same as_of, or leave "
                "this one unset."
            ),
            allow_retries=False,
        )
    return built, f"dbt build in run {build_run.run_id}"


def segment_names() -> list[str]:
    """Every segment the loaded dbt project defines (seg_<segment> models), sorted."""
    names = {
        key.path[-1].removeprefix(_SEGMENT_MODEL_PREFIX)
        for key in cohortflow_dbt_assets.keys
        if key.path[-1].startswith(_SEGMENT_MODEL_PREFIX)
    }
    return sorted(names)


def changes_table(recorded: RecordedRun, segments: Iterable[str]) -> str:
    """A Markdown table of each segment's entered/exited/updated counts, with a total row."""
    lines = ["| segment | entered | exited | updated |", "| --- | ---: | ---: | ---: |"]
    for segment in sorted({*segments, *recorded.segments}):
        counts = recorded.segments.get(segment)
        cells = [str(getattr(counts, kind, 0)) for kind in CHANGE_KINDS]
        lines.append(f"| {segment} | {' | '.join(cells)} |")
    totals = [f"**{recorded.total(kind)}**" for kind in CHANGE_KINDS]
    lines.append(f"| **total** | {' | '.join(totals)} |")
    return "\n".join(lines)


def change_metadata(
    recorded: RecordedRun, segments: Iterable[str], as_of_source: str
) -> dict[str, dg.MetadataValue]:
    """Materialization metadata: the run, totals, a table and `<segment>/<kind>` counts.

    Every known segment gets its counts, zeros included, so each key plots as a continuous series
    in the UI; a segment that is gone but still had exits is listed too.
    """
    names = sorted({*segments, *recorded.segments})
    metadata: dict[str, dg.MetadataValue] = {
        "run_id": dg.MetadataValue.text(recorded.run_id),
        "as_of": dg.MetadataValue.text(f"{recorded.as_of:%Y-%m-%dT%H:%M:%S}Z"),
        "as_of_source": dg.MetadataValue.text(as_of_source),
        **{kind: dg.MetadataValue.int(recorded.total(kind)) for kind in CHANGE_KINDS},
        "changes": dg.MetadataValue.md(changes_table(recorded, names)),
    }
    for segment in names:
        counts = recorded.segments.get(segment)
        for kind in CHANGE_KINDS:
            metadata[f"{segment}/{kind}"] = dg.MetadataValue.int(getattr(counts, kind, 0))
    return metadata


@dg.asset(
    key=MEMBERSHIP_CHANGES_KEY,
    deps=[SEGMENT_MEMBERSHIP_KEY],
    group_name="state",
    kinds={"python"},
    pool=WAREHOUSE_POOL,
    description=(
        "Who entered, exited or changed traits in each segment since the last recorded run: "
        "appended to cohortflow_state.membership_change_log, with the snapshot and membership "
        "history moved forward in the same transaction (docs/change-detection.md)."
    ),
)
def membership_changes(
    context: AssetExecutionContext,
    warehouse: WarehouseResource,
    config: ChangeDetectionConfig,
) -> dg.MaterializeResult[None]:
    """Record the changes of segment_membership as of the instant it was built.

    One transaction: if anything fails, nothing is recorded and the next run records the same
    changes. A run earlier than the last recorded one is refused (no retry helps).
    """
    settings = warehouse.settings()
    as_of, source = _as_of(context, config)
    context.log.info(
        f"detecting changes as of {as_of:%Y-%m-%d %H:%M:%S} UTC ({source}) on "
        f"{settings.warehouse.describe()}"
    )
    try:
        with connect(settings.warehouse) as connection:
            recorded = detect_changes(
                connection,
                state_schema=settings.state_schema,
                models_schema=MODELS_SCHEMA,
                as_of=as_of,
            )
    except BackfillRefused as refused:
        raise dg.Failure(description=str(refused), allow_retries=False) from refused
    context.log.info(
        f"run {recorded.run_id}: "
        + ", ".join(f"{recorded.total(kind)} {kind}" for kind in CHANGE_KINDS)
    )
    return dg.MaterializeResult(metadata=change_metadata(recorded, segment_names(), source))


def defs() -> dg.Definitions:
    """The change detection asset."""
    return dg.Definitions(assets=[membership_changes])
