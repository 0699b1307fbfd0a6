"""All terminal output of the CLI: tables and progress on a rich console, or JSON on stdout.

Progress bars and messages go to stderr so `--json` output on stdout stays machine-readable.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from activations.changes import RecordedRun, SegmentChanges

stdout = Console()
stderr = Console(stderr=True)


def print_json(payload: Mapping[str, Any]) -> None:
    """`payload` as JSON on stdout, nothing else."""
    print(json.dumps(payload, indent=2, sort_keys=True, default=str))


def print_error(message: str) -> None:
    stderr.print(f"[bold red]error:[/] {message}", highlight=False, soft_wrap=True)


def print_note(message: str) -> None:
    stderr.print(message, highlight=False, soft_wrap=True)


def counts_table(
    title: str, counts: Mapping[str, int], label: str, unit: str = "persons", share: bool = True
) -> Table:
    """A table of counts, with each row's share of the total when `share` is set."""
    total = sum(counts.values())
    table = Table(title=title, title_justify="left", show_edge=False, pad_edge=False)
    table.add_column(label)
    table.add_column(unit, justify="right")
    if share:
        table.add_column("share", justify="right")
    for name, count in counts.items():
        cells = [name, f"{count:,}"]
        if share:
            cells.append(f"{100 * count / total:.1f}%" if total else "-")
        table.add_row(*cells)
    return table


@contextmanager
def progress_bar(enabled: bool = True) -> Iterator[Progress]:
    """A transient progress display on stderr; off in --json mode and when stderr is not a
    terminal, so logs and pipes get only the messages that matter."""
    progress = Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=stderr,
        transient=True,
        disable=not enabled or not stderr.is_terminal,
    )
    with progress:
        yield progress


def changes_table(members: Mapping[str, int], changes: RecordedRun) -> Table:
    """Members per segment with this run's entered / exited / updated counts."""
    table = Table(
        title=f"Segments (run {changes.run_id})",
        title_justify="left",
        show_edge=False,
        pad_edge=False,
    )
    for column in ("segment", "members", "entered", "exited", "updated"):
        table.add_column(column, justify="left" if column == "segment" else "right")
    for segment in sorted(set(members) | set(changes.segments)):
        counts = changes.segments.get(segment, SegmentChanges())
        table.add_row(
            segment,
            f"{members.get(segment, 0):,}",
            f"{counts.entered:,}",
            f"{counts.exited:,}",
            f"{counts.updated:,}",
        )
    return table
