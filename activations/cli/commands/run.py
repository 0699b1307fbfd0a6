"""`cohortflow run`: the main job, as of an instant."""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from contextlib import ExitStack
from datetime import datetime
from typing import TYPE_CHECKING, Annotated

import typer
from rich.columns import Columns

from activations.cli.commands.sync import exit_on_sync_problems, print_sync_outcome
from activations.cli.options import JsonOption
from activations.cli.output import (
    changes_table,
    counts_table,
    print_json,
    print_note,
    print_sandboxes,
    stdout,
    steps_progress,
)
from activations.instants import resolve_as_of
from activations.settings import Settings

if TYPE_CHECKING:
    from activations.pipeline import RunResult
    from activations.segment_config import SegmentConfig


def run(
    as_of: Annotated[
        str | None,
        typer.Option("--as-of", help="Compute everything as of this instant (UTC). Default: now."),
    ] = None,
    sandbox: Annotated[
        bool,
        typer.Option(
            "--sandbox",
            help="Sync into local sandbox servers on loopback instead of the vendors' APIs "
            "(demo and testing; destination credentials in the environment are ignored).",
        ),
    ] = False,
    allow_future: Annotated[
        bool,
        typer.Option(
            "--allow-future",
            help="Accept an --as-of later than now (backtests and demos on synthetic data).",
        ),
    ] = False,
    json_output: JsonOption = False,
) -> None:
    """Build every dbt model and run its tests as of an instant, record what changed, sync every
    destination whose credentials are set, then print a summary.

    Needs raw data in the warehouse (`cohortflow load`). Works with no destination configured.
    Exit status 2 when the mass-removal gate or a check held a segment back, 3 when a destination
    failed or rows or events were not acknowledged; the summary is printed either way. A wrong
    --as-of recorded by mistake: `cohortflow runs undo`.
    """
    settings = Settings.from_env()
    instant = resolve_as_of(as_of, allow_future=allow_future)
    with ExitStack() as stack:
        environ = dict(os.environ)
        sandboxes = None
        if sandbox:
            from activations.sandbox.local import local_sandboxes

            sandboxes = stack.enter_context(local_sandboxes())
            environ.update(sandboxes.environ)
            print_note(
                "syncing into local sandboxes on loopback; they start empty each run, so on a "
                "warehouse that already synced, only what changed since is sent."
            )
        result = _run(
            settings,
            instant,
            environ,
            json_output,
            allow_future=allow_future,
            environ_for=None if sandboxes is None else sandboxes.webhook_environ,
        )
        _print(result, settings, json_output)
        if sandboxes is not None and not json_output:
            print_sandboxes(sandboxes)
    exit_on_sync_problems(result.syncs)


def _run(
    settings: Settings,
    instant: datetime,
    environ: dict[str, str],
    json_output: bool,
    *,
    allow_future: bool = False,
    environ_for: Callable[[Mapping[str, SegmentConfig]], Mapping[str, str]] | None = None,
) -> RunResult:
    from activations.pipeline import run_pipeline

    with steps_progress(enabled=not json_output) as steps:
        result = run_pipeline(
            settings,
            as_of=instant,
            on_step=steps.start,
            progress=lambda done, total, node: steps.count(done, total, f"dbt: {node}"),
            environ=environ,
            environ_for=environ_for,
            allow_future=allow_future,
        )
    return result


def _print(result: RunResult, settings: Settings, json_output: bool) -> None:
    summary = result.summary
    build = {kind: result.build.count(kind) for kind in ("model", "test", "unit_test")}
    if json_output:
        print_json(
            {
                "as_of": result.as_of.isoformat(),
                "warehouse": settings.warehouse.describe(),
                "dbt": build,
                "phones_normalised": result.phones.added,
                "run_id": result.changes.run_id,
                "changes": {
                    segment: {"entered": c.entered, "exited": c.exited, "updated": c.updated}
                    for segment, c in result.changes.segments.items()
                },
                **summary.as_dict(),
                "syncs": [report.as_dict() for report in result.syncs.reports],
                "syncs_skipped": dict(result.syncs.skipped),
                "checks": result.syncs.checks.as_dict() if result.syncs.checks else None,
            }
        )
        return
    stdout.print(
        f"[bold]cohortflow run[/] as of {result.as_of:%Y-%m-%d %H:%M:%S} UTC on "
        f"{settings.warehouse.describe()}",
        highlight=False,
    )
    stdout.print(
        f"dbt: {build['model']} models, {build['test']} tests and {build['unit_test']} unit tests "
        f"passed; {summary.persons:,} persons\n",
        highlight=False,
    )
    stdout.print(
        Columns(
            [
                counts_table("Lifecycle stages", summary.stages, "stage"),
                counts_table("RFM tiers", summary.tiers, "tier"),
            ],
            padding=(0, 4),
        )
    )
    stdout.print()
    stdout.print(changes_table(summary.segments, result.changes))
    if summary.quarantined:
        stdout.print()
        stdout.print(
            counts_table(
                "Quarantined by staging (details: staging.quarantine)",
                summary.quarantined,
                "table: reason",
                "rows",
                share=False,
            )
        )
    if result.syncs.reports or result.syncs.skipped:
        stdout.print()
        print_sync_outcome(result.syncs, json_output=False)
