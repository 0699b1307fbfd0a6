"""All terminal output of the CLI: tables and progress on a rich console, or JSON on stdout.

Progress bars and messages go to stderr so `--json` output on stdout stays machine-readable.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from rich.console import Console, Group, RenderableType
from rich.markup import escape
from rich.progress import (
    BarColumn,
    Progress,
    ProgressColumn,
    Task,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table
from rich.text import Text

from activations.changes import RecordedRun, SegmentChanges

if TYPE_CHECKING:
    from activations.quality.results import CheckReport
    from activations.reports import SegmentReport, SyncReport
    from activations.sandbox.klaviyo import KlaviyoSandbox
    from activations.sandbox.local import LocalSandboxes
    from activations.sandbox.omnisend import OmnisendSandbox
    from activations.sandbox.twilio import TwilioSandbox
    from activations.sandbox.webhook import WebhookSandbox

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


class CountColumn(ProgressColumn):
    """`done/total` for a task that counts (dbt nodes, raw tables), nothing for one that does
    not: a step without a count shows a moving bar, never `0/?` or another step's count."""

    def render(self, task: Task) -> Text:
        if task.total is None:
            return Text("")
        return Text(f"{int(task.completed)}/{int(task.total)}", style="progress.download")


def new_progress(console: Console = stderr, enabled: bool = True) -> Progress:
    """The CLI's progress display: description, bar, count when there is one, elapsed time."""
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        CountColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=True,
        disable=not enabled,
    )


@contextmanager
def progress_bar(enabled: bool = True) -> Iterator[Progress]:
    """A transient progress display on stderr; off in --json mode and when stderr is not a
    terminal, so logs and pipes get only the messages that matter."""
    with new_progress(enabled=enabled and stderr.is_terminal) as progress:
        yield progress


class Steps:
    """The progress of a job made of steps, one line: each step starts a task of its own (its
    name, its elapsed time, a bar that moves without a count), and only a step that reports a
    count shows one. The build's `140/140` never stays up while later steps run."""

    def __init__(self, progress: Progress) -> None:
        self._progress = progress
        self._task: TaskID | None = None

    def start(self, description: str, total: int | None = None) -> None:
        """A new step: the previous one's line, count and clock give way to it."""
        self._new_task(description, total)

    def count(self, done: int, total: int, description: str | None = None) -> None:
        """The current step's count (`done` of `total`), and what it is working on."""
        task = self._task if self._task is not None else self._new_task(description or "", total)
        self._progress.update(task, completed=done, total=total, description=description)

    def _new_task(self, description: str, total: int | None) -> TaskID:
        if self._task is not None:
            self._progress.remove_task(self._task)
        self._task = self._progress.add_task(description, total=total)
        return self._task


@contextmanager
def steps_progress(enabled: bool = True) -> Iterator[Steps]:
    """`Steps` on a transient progress display on stderr, off like `progress_bar`'s."""
    with progress_bar(enabled=enabled) as progress:
        yield Steps(progress)


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


def sync_table(report: SyncReport) -> RenderableType:
    """Per segment: what the destination acknowledged and what failed; then why each failure
    happened, one line per reason under the table (a reason in a column wraps every row)."""
    table = Table(
        title=f"Sync to {report.destination}", title_justify="left", show_edge=False, pad_edge=False
    )
    table.add_column("segment", justify="left", no_wrap=True)
    table.add_column("status", justify="left", no_wrap=True)
    from activations.destinations.registry import registration

    if registration(report.destination).run is not None:  # holds no members: it sends texts
        return _texts_table(table, report)
    # Seconds waited for rate limits only when some segment waited: keeps 80 columns otherwise.
    waited = any(segment.rate_limit_wait_seconds >= 0.05 for segment in report.segments)
    columns = ("added", "removed", "updated", "events", "failed", "calls")
    for column in (*columns, "waited") if waited else columns:
        table.add_column(column, justify="right")
    for segment in report.segments:
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
        table.add_row(*cells)
    return _with_reasons(table, report)


# Reasons shown per segment; the rest are counted, and all are in cohortflow_state.sync_row_errors.
SHOWN_REASONS = 3


def failure_lines(segment: SegmentReport) -> list[Text]:
    """`  klaviyo/vip: 3 failed: <reason>` for a segment's most common failure reasons."""
    reasons = segment.reasons.most_common()
    lines = [
        Text(f"  {segment.destination}/{segment.segment}: {count:,} failed: {reason}")
        for reason, count in reasons[:SHOWN_REASONS]
    ]
    if len(reasons) > SHOWN_REASONS:
        rest = sum(count for _, count in reasons[SHOWN_REASONS:])
        lines.append(
            Text(
                f"  {segment.destination}/{segment.segment}: {rest:,} more failed for "
                f"{len(reasons) - SHOWN_REASONS} other reason(s) "
                "(cohortflow_state.sync_row_errors)"
            )
        )
    return lines


def _texts_table(table: Table, report: SyncReport) -> RenderableType:
    """A destination that sends texts rather than holding members: per segment the texts
    sent, settled without sending (their reasons are the `skipped:` lines) and failed."""
    for column in ("texted", "not sent", "failed", "calls"):
        table.add_column(column, justify="right")
    for segment in report.segments:
        table.add_row(
            segment.segment,
            segment.status,
            f"{segment.events:,}",
            f"{segment.skipped_events:,}",
            f"{segment.failed + segment.failed_events:,}",
            f"{segment.api_calls:,}",
        )
    return _with_reasons(table, report)


def _with_reasons(table: Table, report: SyncReport) -> RenderableType:
    """`table`, then a line per most common failure reason of each segment."""
    reasons = [line for segment in report.segments for line in failure_lines(segment)]
    return Group(table, *reasons) if reasons else table


def sync_totals(report: SyncReport) -> str:
    """One line: consent (for a destination that carries it), the outbox's messages by state
    (SMS), API traffic and time spent waiting for rate limits."""
    from activations.destinations.registry import registration

    parts = []
    if registration(report.destination).consent_channels:
        unconfirmed = (
            f", {report.consents_failed:,} not confirmed (retried next sync)"
            if report.consents_failed
            else ""
        )
        parts.append(
            f"consent granted {report.consents_granted:,}, withdrawn "
            f"{report.consents_revoked:,}{unconfirmed}"
        )
    if report.outbox:
        held = ", ".join(f"{n:,} {state}" for state, n in sorted(report.outbox.items()))
        parts.append(f"outbox {held}")
    parts.append(
        f"{report.api_calls:,} API calls, {report.retries:,} retries, "
        f"{report.rate_limited:,} rate-limited, {report.rate_limit_wait_seconds:.1f}s waited for "
        f"limits, {report.duration_seconds:.1f}s in all"
    )
    return f"{report.destination}: {'; '.join(parts)}"


def _held_table(title: str, place: str, unit: str, held: Mapping[str, int]) -> Table:
    """A sandbox's contents after a demo run: one row per place (list, tag, status), its count."""
    table = Table(title=title, title_justify="left", show_edge=False, pad_edge=False)
    table.add_column(place, justify="left", no_wrap=True)
    table.add_column(unit, justify="right")
    for name in sorted(held):
        table.add_row(name, f"{held[name]:,}")
    return table


def sandbox_table(sandbox: KlaviyoSandbox) -> Table:
    """What the local Klaviyo sandbox holds after a demo run: members per list."""
    state = sandbox.state
    members = {name: len(state.list_members(name)) for name in set(state.lists.values())}
    return _held_table("Klaviyo sandbox", "list", "members", members)


def sandbox_totals(sandbox: KlaviyoSandbox) -> str:
    state = sandbox.state
    return (
        f"Klaviyo sandbox holds {len(state.profiles):,} profiles, {len(state.events):,} events and "
        f"{len(state.subscriptions):,} email subscriptions."
    )


def omnisend_table(sandbox: OmnisendSandbox) -> Table:
    """What the local Omnisend sandbox holds after a demo run: contacts per tag."""
    summary = sandbox.state.summary()
    holders = Counter(tag for contact in summary["contacts"] for tag in contact["tags"])
    return _held_table("Omnisend sandbox", "tag", "contacts", holders)


def omnisend_totals(sandbox: OmnisendSandbox) -> str:
    summary = sandbox.state.summary()
    subscribed = sum(
        1
        for contact in summary["contacts"]
        for identifier in contact["identifiers"]
        if identifier.get("channels", {}).get("email", {}).get("status") == "subscribed"
    )
    return (
        f"Omnisend sandbox holds {len(summary['contacts']):,} contacts, "
        f"{len(summary['events']):,} events and {subscribed:,} email subscriptions."
    )


def twilio_table(sandbox: TwilioSandbox) -> Table:
    """What the local Twilio sandbox holds after a demo run: outbound texts per status."""
    statuses = Counter(message["status"] for message in sandbox.state.summary()["outbound"])
    return _held_table("Twilio sandbox", "status", "texts", statuses)


def twilio_totals(sandbox: TwilioSandbox) -> str:
    """One line, with one text as the recipient reads it (the number masked)."""
    from activations.quality.gate import mask

    summary = sandbox.state.summary()
    outbound = summary["outbound"]
    line = (
        f"Twilio sandbox holds {len(outbound):,} texts "
        f"({sum(int(m['num_segments']) for m in outbound):,} SMS segments) and "
        f"{len(summary['inbound']):,} replies."
    )
    if outbound:
        first = outbound[0]
        line += f"\ne.g. to {mask(first['to'])}: {first['body']}"
    return line


def webhook_totals(sandbox: WebhookSandbox) -> str:
    """One line: what the local receiver accepted, and what it refused or saw twice."""
    summary = sandbox.state.summary()
    changes = ", ".join(f"{n:,} {kind}" for kind, n in summary["records_by_change"].items())
    return (
        f"Webhook sandbox accepted {summary['batches']:,} signed batches with "
        f"{summary['records']:,} records ({changes or 'none'}); "
        f"{summary['duplicates']:,} duplicate deliveries, "
        f"{sum(summary['rejected'].values()):,} refused."
    )


def print_sandboxes(sandboxes: LocalSandboxes) -> None:
    """What every local sandbox holds, after `cohortflow run --sandbox`."""
    for table, totals in (
        (sandbox_table(sandboxes.klaviyo), sandbox_totals(sandboxes.klaviyo)),
        (omnisend_table(sandboxes.omnisend), omnisend_totals(sandboxes.omnisend)),
        (twilio_table(sandboxes.twilio), twilio_totals(sandboxes.twilio)),
    ):
        stdout.print()
        stdout.print(table)
        stdout.print(totals, highlight=False, markup=False)
    stdout.print()
    stdout.print(webhook_totals(sandboxes.webhook), highlight=False)


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
