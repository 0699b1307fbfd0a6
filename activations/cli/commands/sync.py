"""`cohortflow sync`: send the current plan to a destination, without rebuilding the models."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from activations.cli.options import JsonOption
from activations.cli.output import (
    checks_table,
    checks_totals,
    print_error,
    print_json,
    print_note,
    progress_bar,
    stdout,
    sync_table,
    sync_totals,
)

if TYPE_CHECKING:
    from activations.runner import SyncOutcome

# Exit statuses beyond 0/1 so schedulers can tell "held back on purpose" from "sync failed".
EXIT_BLOCKED = 2
EXIT_SYNC_FAILED = 3


def sync(
    destination: Annotated[
        str | None,
        typer.Option("--destination", help="Only this destination (default: every routed one)."),
    ] = None,
    json_output: JsonOption = False,
) -> None:
    """Sync the last recorded run's segments into their destinations and print what landed.

    Data-quality checks run first (see `cohortflow checks`); a segment a failed blocking check
    holds is not sent at all. Events for people with no address are skipped (reported once,
    not failures). Exit status 2 when a segment was held back by a check or the mass-removal
    gate (see `cohortflow plan`), 3 when a destination failed (a refused API key), or rows or
    events were not acknowledged (reasons in cohortflow_state.sync_row_errors); the summary is
    printed either way.
    """
    import os

    from activations.readiness import require_built
    from activations.runner import sync_all
    from activations.segment_config import load_segment_configs
    from activations.settings import Settings
    from activations.transform import MANIFEST_PATH

    settings = Settings.from_env()
    require_built(settings.warehouse)
    configs = load_segment_configs(MANIFEST_PATH)
    with progress_bar(enabled=not json_output) as progress:
        task = progress.add_task("syncing", total=None)
        outcome = sync_all(
            settings,
            configs=configs,
            environ=os.environ,
            on_step=lambda step: progress.update(task, description=step),
            only=destination,
        )
    print_sync_outcome(outcome, json_output)
    exit_on_sync_problems(outcome)


def exit_on_sync_problems(outcome: SyncOutcome) -> None:
    """Exit 3 when a destination, a segment, a row or an event failed, 2 when a segment was
    held back by the gate or a check."""
    if any(report.status == "failed" for report in outcome.reports):
        raise typer.Exit(EXIT_SYNC_FAILED)
    if any(report.blocked for report in outcome.reports):
        raise typer.Exit(EXIT_BLOCKED)


def print_sync_outcome(outcome: SyncOutcome, json_output: bool) -> None:
    """Tables per destination (or JSON), then one line per destination not synced and why."""
    from activations.destinations.registry import skip_note

    if json_output:
        print_json(
            {
                "syncs": [report.as_dict() for report in outcome.reports],
                "skipped": dict(outcome.skipped),
                "checks": outcome.checks.as_dict() if outcome.checks else None,
            }
        )
        return
    if outcome.checks is not None:
        if outcome.checks.holding or outcome.checks.warnings:
            stdout.print(checks_table(outcome.checks))
        stdout.print(checks_totals(outcome.checks), highlight=False)
    for report in outcome.reports:
        stdout.print(sync_table(report))
        stdout.print(sync_totals(report), highlight=False)
        for segment in report.blocked:
            print_note(f"blocked: {report.destination}/{segment.segment}: {segment.message}")
        for segment in report.failed:
            print_note(f"failed: {segment.message}")
        for segment in report.segments:
            if segment.moved_to is not None:
                print_note(
                    f"moved: {report.destination}/{segment.segment}: members removed from "
                    f"{segment.moved_from!r} and kept at {segment.moved_to!r} from now on"
                )
            for reason, count in segment.skip_reasons.most_common():
                events = "1 event" if count == 1 else f"{count:,} events"
                print_note(
                    f"skipped: {report.destination}/{segment.segment}: {events} ({reason}); "
                    "recorded, not reported again"
                )
        if report.consent_held:
            print_note(f"{report.destination}: consent not synced: {report.consent_held}")
        if report.error is not None:
            print_error(report.error)
    for name, reason in outcome.skipped.items():
        print_note(skip_note(name, reason))
    if not outcome.reports and not outcome.skipped:
        print_note("no segment is routed to a destination: nothing to sync.")
