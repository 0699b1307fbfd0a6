"""All terminal output of the CLI: tables and progress on a rich console, or JSON on stdout.

Progress bars and messages go to stderr so `--json` output on stdout stays machine-readable.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from activations.changes import RecordedRun, SegmentChanges

if TYPE_CHECKING:
    from activations.quality.results import CheckReport
    from activations.runner import SyncReport
    from activations.sandbox.klaviyo import KlaviyoSandbox

stdout = Console()
stderr = Console(stderr=True)


def print_json(payload: Mapping[str, Any]) -> None:
    """`payload` as JSON on stdout, nothing else."""
    print(json.dumps(payload, indent=2, sort_keys=True, default=str))


def print_error(message: str) -> None:
    """`error: <message>` on stderr. Messages are escaped: a vendor's error code in brackets
    (`[authentication_failed]`) is text, not rich markup to swallow."""
    stderr.print(f"[bold red]error:[/] {escape(message)}", highlight=False, soft_wrap=True)


def print_note(message: str) -> None:
    stderr.print(escape(message), highlight=False, soft_wrap=True)


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


def sync_table(report: SyncReport) -> Table:
    """Per segment: what the destination acknowledged, what failed and why."""
    table = Table(
        title=f"Sync to {report.destination}", title_justify="left", show_edge=False, pad_edge=False
    )
    table.add_column("segment", justify="left", no_wrap=True)
    table.add_column("status", justify="left", no_wrap=True)
    # Seconds waited for rate limits only when some segment waited: keeps 80 columns otherwise.
    waited = any(segment.rate_limit_wait_seconds >= 0.05 for segment in report.segments)
    columns = ("added", "removed", "updated", "events", "failed", "calls")
    for column in (*columns, "waited") if waited else columns:
        table.add_column(column, justify="right")
    failures = any(segment.reasons for segment in report.segments)
    if failures:
        table.add_column("top failure reason", justify="left")
    for segment in report.segments:
        reason = segment.reasons.most_common(1)
        cells = [
            segment.segment,
            segment.status,
            f"{segment.added:,}",
            f"{segment.removed:,}",
            f"{segment.updated:,}",
            f"{segment.events:,}",
            f"{segment.failed + segment.failed_events:,}",
            f"{segment.api_calls:,}",
        ]
        if waited:
            cells.append(f"{segment.rate_limit_wait_seconds:.1f}s")
        if failures:
            cells.append(f"{reason[0][0]} ({reason[0][1]:,})" if reason else "")
        table.add_row(*cells)
    return table


def sync_totals(report: SyncReport) -> str:
    """One line: consent, API traffic and time spent waiting for rate limits."""
    return (
        f"{report.destination}: email consent granted {report.consents_granted:,}, withdrawn "
        f"{report.consents_revoked:,}; {report.api_calls:,} API calls, {report.retries:,} retries, "
        f"{report.rate_limited:,} rate-limited, {report.rate_limit_wait_seconds:.1f}s waited for "
        f"limits, {report.duration_seconds:.1f}s in all"
    )


def sandbox_table(sandbox: KlaviyoSandbox) -> Table:
    """What the local Klaviyo sandbox holds after a demo run: lists, events, consent."""
    state = sandbox.state
    table = Table(
        title="Klaviyo sandbox",
        title_justify="left",
        show_edge=False,
        pad_edge=False,
    )
    table.add_column("list", justify="left", no_wrap=True)
    table.add_column("members", justify="right")
    for name in sorted(set(state.lists.values())):
        table.add_row(name, f"{len(state.list_members(name)):,}")
    return table


def sandbox_totals(sandbox: KlaviyoSandbox) -> str:
    state = sandbox.state
    return (
        f"Klaviyo sandbox holds {len(state.profiles):,} profiles, {len(state.events):,} events and "
        f"{len(state.subscriptions):,} email subscriptions."
    )


def checks_table(report: CheckReport, *, all_results: bool = False) -> Table:
    """The checks that failed or warned (every check with `all_results`), worst first."""
    shown = [r for r in report.results if all_results or r.status != "passed"]
    table = Table(
        title="Data-quality checks", title_justify="left", show_edge=False, pad_edge=False
    )
    for column in ("check", "subject", "status", "finding"):
        table.add_column(column, justify="left", overflow="fold")
    for result in shown:
        table.add_row(result.check, result.subject, result.label, result.message)
    return table


def checks_totals(report: CheckReport) -> str:
    """One line: how many checks passed, warned, failed, and how many hold syncs."""
    counts = report.counts()
    return (
        f"checks: {counts['passed']} passed, {counts['warned']} warned, {counts['failed']} failed"
        f" ({len(report.holding)} holding syncs back)"
    )


def print_check_holds(report: CheckReport) -> None:
    """For each failure that holds syncs: what, why, sample rows and how to let it through."""
    from activations.quality.results import hold_reason

    for result in report.holding:
        print_note(f"blocked: {hold_reason(result)}")
        if result.samples:
            print_note(f"  e.g. {result.samples_text}")
