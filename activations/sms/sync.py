"""One SMS sync: the `run` of the `sms` registration, reported in the shape every destination
reports in (`SyncReport`), so `cohortflow sync --json` and the Dagster asset read it the same way.

In a segment's report, `events` counts the texts Twilio accepted this sync, `skipped_events`
(with `skip_reasons`) the texts that will never go (suppressed, expired), `failed_events` those
Twilio refused; the message says how many wait (deferred) or are in doubt.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from activations.changes import last_run_id
from activations.destinations.base import Registration
from activations.destinations.options import parse_options
from activations.destinations.sms import NAME, SmsOptions
from activations.destinations.twilio import open_twilio
from activations.ledger import ensure_baseline
from activations.migrations import migrate
from activations.reports import SegmentReport, SyncReport
from activations.sms.outbox import Planned, next_deferred_at
from activations.sms.outbox import counts as outbox_counts
from activations.sms.planning import plan_segment, segment_templates
from activations.sms.project_rules import project_rules
from activations.sms.sender import Delivery, Sender
from activations.transform import DBT_PROJECT_DIR
from activations.warehouse import connect

if TYPE_CHECKING:  # both read the registry, which registers this module's `run_sms`
    from activations.segment_config import SegmentConfig
    from activations.settings import Settings

_NEVER_SENT = ("suppressed", "expired")


def _utc_now() -> datetime:
    """Now, as the warehouse keeps instants (naive UTC); tests pass their own clock."""
    return datetime.now(UTC).replace(tzinfo=None)


def run_sms(
    settings: Settings,
    routed: Mapping[str, SegmentConfig],
    holds: Mapping[str, str],
    environ: Mapping[str, str],
    report: SyncReport,
    *,
    project_dir: Path = DBT_PROJECT_DIR,
    clock: Callable[[], datetime] = _utc_now,
) -> None:
    """Plan every routed segment's new changes into the outbox, then send what is due.

    Raises:
        CohortflowError: a template is missing or invalid, the project's or a segment's rules,
            the options or the Twilio settings cannot be used (before anything is planned or
            sent).
    """
    from activations.reports import SegmentReport

    options = {
        segment: parse_options(SmsOptions, segment, config.destination(NAME).options)
        for segment, config in routed.items()
    }
    base = project_rules(project_dir)
    rules = {segment: options[segment].rules(base) for segment in routed}
    templates = {
        segment: segment_templates(project_dir, segment, options[segment], config.traits)
        for segment, config in routed.items()
    }
    sending = [segment for segment in routed if segment not in holds]
    now = clock()
    with connect(settings.warehouse) as connection:
        migrate(connection, settings.state_schema)
        report.run_id = last_run_id(connection, settings.state_schema)
        if report.run_id is not None:
            for segment in sending:
                ensure_baseline(
                    connection,
                    state_schema=settings.state_schema,
                    destination=NAME,
                    segment=segment,
                    run_id=report.run_id,
                )
    planned: dict[str, list[Planned]] = {}
    for segment in sending:
        with connect(settings.warehouse) as connection:
            planned[segment] = plan_segment(
                connection,
                state_schema=settings.state_schema,
                segment=segment,
                send_window=rules[segment].send_window,
                templates=templates[segment],
                now=now,
            )
    with open_twilio(environ) as messages:
        sender = Sender(
            settings.warehouse,
            settings.state_schema,
            messages,
            rules=rules,
            segments=frozenset(sending),
            at_least_once=frozenset(s for s in sending if options[s].delivery == "at_least_once"),
            clock=clock,
        )
        try:
            delivery = sender.deliver()
        finally:
            stats = messages.client.stats
            report.api_calls = stats.requests
            report.retries = stats.retries
            report.rate_limited = stats.rate_limited
    with connect(settings.warehouse) as connection:
        report.outbox = outbox_counts(connection, settings.state_schema)
        report.next_deferred_at = next_deferred_at(connection, settings.state_schema)
    for segment in routed:
        segment_report = SegmentReport(destination=NAME, segment=segment, plan_id="")
        if segment in holds:
            segment_report.status = "blocked"
            segment_report.message = holds[segment]
        else:
            _count(segment_report, delivery, segment, planned.get(segment, []))
        report.segments.append(segment_report)


def _count(
    report: SegmentReport, delivery: Delivery, segment: str, planned: Sequence[Planned]
) -> None:
    """The segment's texts in its report: those settled when planned (no phone, too late) and
    those the sender settled, with their reasons; what still waits, in its message."""
    texts = delivery.of(segment)
    for row in planned:
        if row.status != "planned":
            texts.statuses[row.status] += 1
            texts.reasons[row.reason or row.status] += 1
    report.events = texts.sent
    report.skipped_events = sum(texts.statuses[s] for s in _NEVER_SENT)
    report.failed_events = texts.statuses["failed"]
    report.permanent_failures = texts.statuses["failed"]
    for reason, count in texts.reasons.items():
        report.skip_reasons[reason] += count
    waiting = [
        f"{count:,} {label}"
        for count, label in (
            (texts.deferred, "deferred"),
            (texts.in_doubt, "in doubt"),
        )
        if count
    ]
    report.message = ", ".join(waiting) or None


REGISTRATION = Registration(
    name=NAME,
    options=SmsOptions,
    required_env=("TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN"),
    run=run_sms,
)
