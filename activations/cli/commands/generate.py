"""`cohortflow generate`: write a synthetic store as one Parquet file per raw table."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer

from activations.cli.options import JsonOption
from activations.cli.output import print_json, print_note, progress_bar
from activations.instants import parse_instant
from activations.raw_contract import RAW_TABLES


def generate(
    out: Annotated[Path, typer.Option("--out", help="Folder to write <table>.parquet files into.")],
    persons: Annotated[int, typer.Option("--persons", min=1, help="Number of people.")] = 10_000,
    seed: Annotated[int, typer.Option("--seed", help="Random seed; same seed, same store.")] = 42,
    until: Annotated[
        str | None,
        typer.Option("--until", help="End of the store's history (UTC). Default: today 00:00 UTC."),
    ] = None,
    json_output: JsonOption = False,
) -> None:
    """Generate a realistic, deterministic synthetic store (dirty at documented rates)."""
    from activations.synthetic import generate_store, write_store

    end = (
        parse_instant(until)
        if until
        else datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0, tzinfo=None)
    )
    with progress_bar(enabled=not json_output) as progress:
        task = progress.add_task(f"generating {persons:,} persons", total=len(RAW_TABLES) + 2)
        tables = generate_store(persons, seed, end, progress=lambda step: progress.advance(task))
        progress.update(task, description=f"writing {out}")
        counts = write_store(tables, out)
        progress.advance(task)
    if json_output:
        print_json(
            {"out": str(out), "persons": persons, "seed": seed, "until": end, "rows": counts}
        )
        return
    rows = ", ".join(f"{name} {count:,}" for name, count in counts.items())
    print_note(f"wrote {len(counts)} tables to {out} ({rows})")
