"""`cohortflow changes`: who entered, left or changed traits, from the change log."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Annotated

import typer
from rich.table import Table

from activations.changes import CHANGE_KINDS, Change, SegmentChanges
from activations.cli.options import JsonOption
from activations.cli.output import print_json, print_note, stdout
from activations.errors import CohortflowError


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
    from activations.changes import change_counts, last_run_id, list_changes
    from activations.readiness import require_models, require_state
    from activations.run_history import require_recorded
    from activations.settings import Settings
    from activations.warehouse import connect

    settings = Settings.from_env()
    if segment is not None:
        _require_segment(segment.removeprefix("seg_"))
        segment = segment.removeprefix("seg_")
    counts: dict[str, SegmentChanges] = {}
    rows: list[Change] = []
    with connect(settings.warehouse) as connection:
        require_models(connection)
        require_state(connection, settings.state_schema)
        if run is not None:
            require_recorded(connection, settings.state_schema, run)
        run_id = run or last_run_id(connection, settings.state_schema)
        if run_id:
            rows = list_changes(
                connection,
                state_schema=settings.state_schema,
                run_id=run_id,
                segment=segment,
                limit=limit,
            )
            counts = change_counts(connection, state_schema=settings.state_schema, run_id=run_id)
    if segment is not None:
        counts = {segment: counts[segment]} if segment in counts else {}
    total = sum(c.total for c in counts.values())
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
                "total": total,
                "truncated": len(rows) < total,
            }
        )
        return
    if run_id is None:
        print_note("no run has recorded changes yet: `cohortflow run` records the first one.")
        return
    stdout.print(f"run {run_id}: {_totals(counts.values())}", highlight=False)
    table = Table(show_edge=False, pad_edge=False)
    for column in ("segment", "change", "person_id", "traits_hash"):
        table.add_column(column)
    for row in rows:
        table.add_row(row.segment, row.change, row.person_id, row.traits_hash[:12])
    stdout.print(table)
    if len(rows) < total:
        stdout.print(
            f"showing {len(rows):,} of {total:,} changes: --limit {total} shows all",
            highlight=False,
        )
    if counts:
        stdout.print(segment_totals(counts))


def segment_totals(counts: Mapping[str, SegmentChanges]) -> Table:
    """Each segment's counts for the whole run, however many rows the listing showed."""
    table = Table(box=None, pad_edge=False)
    table.add_column("segment", no_wrap=True)
    for kind in CHANGE_KINDS:
        table.add_column(kind, justify="right")
    for name, kinds in sorted(counts.items()):
        table.add_row(name, *(f"{getattr(kinds, kind):,}" for kind in CHANGE_KINDS))
    return table


def _totals(counts: Iterable[SegmentChanges]) -> str:
    """`75 changes (50 entered, 20 exited, 5 updated)`, summed over `counts`."""
    kinds = dict.fromkeys(CHANGE_KINDS, 0)
    for segment in counts:
        for kind in CHANGE_KINDS:
            kinds[kind] += getattr(segment, kind)
    listed = ", ".join(f"{n:,} {kind}" for kind, n in kinds.items())
    return f"{sum(kinds.values()):,} change(s) ({listed})"


def _require_segment(name: str) -> None:
    """Exit 1 with the closest names when `name` is not a segment of the dbt project."""
    from activations.segments import segment_model_names, unknown_segment
    from activations.transform import DBT_PROJECT_DIR

    known = [model.removeprefix("seg_") for model in segment_model_names(DBT_PROJECT_DIR)]
    if name not in known:
        raise CohortflowError(unknown_segment(name, known))
