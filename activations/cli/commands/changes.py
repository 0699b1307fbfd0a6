"""`cohortflow changes`: who entered, left or changed traits, from the change log."""

from __future__ import annotations

from collections import Counter
from typing import Annotated

import typer
from rich.table import Table

from activations.cli.options import JsonOption
from activations.cli.output import print_json, print_note, stdout


def changes(
    segment: Annotated[str | None, typer.Option("--segment", help="Only this segment.")] = None,
    run: Annotated[
        str | None, typer.Option("--run", help="Run id (default: the latest run).")
    ] = None,
    limit: Annotated[int, typer.Option("--limit", min=1, help="At most this many rows.")] = 50,
    json_output: JsonOption = False,
) -> None:
    """Show the changes one run recorded: entered, exited and updated members per segment.

    The full log is the table cohortflow_state.membership_change_log; query it for anything else.
    """
    from activations.changes import last_run_id, list_changes
    from activations.settings import Settings
    from activations.warehouse import connect

    settings = Settings.from_env()
    with connect(settings.warehouse) as connection:
        run_id = run or last_run_id(connection, settings.state_schema)
        rows = (
            list_changes(
                connection,
                state_schema=settings.state_schema,
                run_id=run_id,
                segment=segment,
                limit=limit,
            )
            if run_id
            else []
        )
    if json_output:
        print_json(
            {
                "run_id": run_id,
                "changes": [
                    {
                        "segment": r.segment,
                        "person_id": r.person_id,
                        "change": r.change,
                        "traits_hash": r.traits_hash,
                        "as_of": r.as_of.isoformat(),
                    }
                    for r in rows
                ],
            }
        )
        return
    if run_id is None:
        print_note("no run has recorded changes yet: `cohortflow run` records the first one.")
        return
    counts = Counter((r.segment, r.change) for r in rows)
    stdout.print(f"run {run_id}: {len(rows)} change(s) shown (limit {limit})", highlight=False)
    table = Table(show_edge=False, pad_edge=False)
    for column in ("segment", "change", "person_id", "traits_hash"):
        table.add_column(column)
    for row in rows:
        table.add_row(row.segment, row.change, row.person_id, row.traits_hash[:12])
    stdout.print(table)
    if counts:
        summary = ", ".join(f"{s} {c} {n}" for (s, c), n in sorted(counts.items()))
        stdout.print(summary, highlight=False)
