"""`cohortflow run`: the main job, as of an instant."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.columns import Columns

from activations.cli.options import JsonOption
from activations.cli.output import changes_table, counts_table, print_json, progress_bar, stdout
from activations.instants import resolve_as_of


def run(
    as_of: Annotated[
        str | None,
        typer.Option("--as-of", help="Compute everything as of this instant (UTC). Default: now."),
    ] = None,
    json_output: JsonOption = False,
) -> None:
    """Build every dbt model and run its tests as of an instant, then print a summary.

    Needs raw data in the warehouse (`cohortflow load`). Works with no destination configured.
    """
    from activations.pipeline import run_pipeline
    from activations.settings import Settings

    settings = Settings.from_env()
    instant = resolve_as_of(as_of)
    with progress_bar(enabled=not json_output) as progress:
        task = progress.add_task("starting", total=None)

        def on_build(done: int, total: int, node: str) -> None:
            progress.update(task, completed=done, total=total, description=f"dbt: {node}")

        result = run_pipeline(
            settings,
            as_of=instant,
            on_step=lambda step: progress.update(task, description=step),
            progress=on_build,
        )
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
