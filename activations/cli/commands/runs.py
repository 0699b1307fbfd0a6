"""`cohortflow runs`: the recorded runs, and undoing the last one when nothing of it was synced."""

from __future__ import annotations

import sys
from typing import Annotated

import typer
from rich.table import Table

from activations.cli.options import JsonOption
from activations.cli.output import print_error, print_json, print_note, stdout

app = typer.Typer(
    help="Recorded runs: list them, undo the last one (a wrong --as-of, say).",
    no_args_is_help=True,
)


@app.command("list")
def list_runs(
    limit: Annotated[int, typer.Option("--limit", min=1, help="How many runs to show.")] = 20,
    json_output: JsonOption = False,
) -> None:
    """Every recorded run, newest first: its as_of, entered / exited / updated, and whether a
    destination was synced after it (--json adds when it was recorded).

    "synced: no" on the last run means `cohortflow runs undo` can remove it.
    """
    from activations.run_history import recorded_runs, run_ids
    from activations.settings import Settings
    from activations.warehouse import connect

    settings = Settings.from_env()
    with connect(settings.warehouse) as connection:
        total = len(run_ids(connection, settings.state_schema))
        shown = recorded_runs(connection, settings.state_schema, limit=limit)
    if json_output:
        print_json({"runs": [run.as_dict() for run in shown], "total": total})
        return
    if not shown:
        print_note("no run is recorded yet: `cohortflow run` records the first.")
        return
    table = Table(box=None, pad_edge=False, header_style="bold")
    table.add_column("run_id", no_wrap=True)
    table.add_column("as_of (UTC)", no_wrap=True)
    for column in ("entered", "exited", "updated"):
        table.add_column(column, justify="right", no_wrap=True)
    table.add_column("synced", no_wrap=True)
    for run in shown:
        table.add_row(
            run.run_id,
            f"{run.as_of:%Y-%m-%d %H:%M}",
            f"{run.entered:,}",
            f"{run.exited:,}",
            f"{run.updated:,}",
            "yes" if run.synced else "no",
        )
    stdout.print(table)
    if total > len(shown):
        print_note(f"showing {len(shown)} of {total} runs (--limit)")


@app.command("undo")
def undo(
    run_id: Annotated[str, typer.Argument(help="The last recorded run's id (`runs list`).")],
    yes: Annotated[bool, typer.Option("--yes", help="Do not ask for confirmation.")] = False,
    json_output: JsonOption = False,
) -> None:
    """Remove the last recorded run and its changes, when nothing of it was synced yet.

    The snapshot, the history and the change log go back to what they were before the run, in
    one transaction, so the next `cohortflow run` (with a correct --as-of) records it again.
    Refused, with nothing changed, when the run is not the last or a destination was synced
    since it was recorded. The built models are not touched: the next run rebuilds them.
    """
    from activations.run_history import UndoRefused, undo_last_run
    from activations.settings import Settings
    from activations.warehouse import connect

    settings = Settings.from_env()
    if not yes:
        if not sys.stdin.isatty():
            print_error("undo asks for confirmation: pass --yes to undo without a terminal.")
            raise typer.Exit(code=1)
        typer.confirm(f"Undo run {run_id} and its changes?", abort=True, err=True)
    try:
        with connect(settings.warehouse) as connection:
            run = undo_last_run(connection, settings.state_schema, run_id)
    except UndoRefused as refused:
        if json_output:
            print_json({"undone": None, "refused": str(refused)})
        print_error(str(refused))
        raise typer.Exit(code=1) from None
    if json_output:
        print_json({"undone": run.as_dict(), "refused": None})
        return
    print_note(
        f"undid run {run.run_id} (as_of {run.as_of:%Y-%m-%d %H:%M:%S}): {run.entered:,} "
        f"entered, {run.exited:,} exited and {run.updated:,} updated removed from the change "
        "log; the snapshot and the history are as before it. Run `cohortflow run` (with a "
        "correct --as-of) to record the warehouse's state again."
    )
