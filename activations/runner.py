"""Sync: execute the plan for one destination, segment by segment, and record what landed.

For each (destination, segment) the runner reads the plan's rows from the warehouse in one short
transaction, hands them to the destination, and records every acknowledgement the destination
reports in its own short transaction as it arrives. No warehouse connection is held during HTTP
calls (DuckDB allows one writer process), and nothing is written to the ledger that the
destination did not confirm. A blocked plan (mass-removal gate) sends nothing for that segment.
A destination that fails as a whole (a refused API key) is reported with its error and what it
did before (`DestinationFailed`), so a run still prints its summary and syncs the others.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy.engine import Connection

from activations.changes import last_run_id
from activations.destinations.base import AckSink, Destination
from activations.destinations.registry import open_destination, registration, unavailable_reason
from activations.errors import CohortflowError, WarehouseError
from activations.failpoints import failpoint
from activations.http import AuthError, HttpClient
from activations.ledger import (
    ensure_baseline,
    record_acks,
    record_consents,
    record_event_acks,
    record_events_sending,
    record_intents,
    record_profile_ids,
    settle_target,
)
from activations.migrations import migrate
from activations.planner import (
    SegmentPlan,
    SyncPlan,
    build_plan,
    consent_work,
    move_work,
    segment_target,
    segment_work,
)
from activations.quality.gate import run_checks
from activations.quality.results import CheckReport
from activations.reports import SegmentReport, SyncReport
from activations.rows import Channel, Event, EventAck, RowAck, RowIntent, SegmentWork
from activations.segment_config import (
    SegmentConfig,
    require_routed,
    routed_blocks,
    routed_destinations,
    routed_to,
)
from activations.settings import Settings
from activations.warehouse import WarehouseBusy, connect

# How long an acknowledgement waits for a DuckDB file another process is writing to.
LEDGER_BUSY_WAIT_SECONDS = 120.0


class _LedgerSink:
    """Records a destination's acknowledgements, each batch in its own short transaction."""

    def __init__(self, settings: Settings, destination: str, report: SyncReport) -> None:
        self.settings = settings
        self.destination = destination
        self.sync_report = report
        self.segment: SegmentReport | None = None

    def sending(self, intents: Sequence[RowIntent]) -> None:
        if intents and self.segment is not None:
            self._write(record_intents, segment=self.segment.segment, intents=intents)

    def rows(self, acks: Sequence[RowAck]) -> None:
        if not acks or self.segment is None:
            return
        failpoint("sync_before_ack")
        self._write(record_acks, segment=self.segment.segment, acks=acks)
        for ack in acks:
            if ack.ok:
                if ack.operation == "add":
                    self.segment.added += 1
                elif ack.operation == "remove":
                    self.segment.removed += 1
                else:
                    self.segment.updated += 1
            else:
                self.segment.failed += 1
                self.segment.permanent_failures += not ack.retryable
                self.segment.reasons[ack.reason or "unknown error"] += 1

    def events_sending(self, events: Sequence[Event]) -> None:
        if events and self.segment is not None:
            self._write(record_events_sending, event_ids=[event.event_id for event in events])

    def events(self, acks: Sequence[EventAck]) -> None:
        if not acks or self.segment is None:
            return
        failpoint("sync_before_event_ack")
        sent = [ack.event_id for ack in acks if ack.ok]
        if sent:
            self._write(record_event_acks, event_ids=sent)
        self.segment.events += len(sent)
        for ack in acks:
            if not ack.ok:
                self.segment.failed_events += 1
                self.segment.reasons[f"event: {ack.reason or 'unknown error'}"] += 1

    def skipped_events(self, events: Sequence[Event], reason: str) -> None:
        """Settle events nobody can be addressed by as skipped: reported this once, not sent."""
        if not events or self.segment is None:
            return
        ids = [event.event_id for event in events]
        self._write(record_event_acks, event_ids=ids, outcome="skipped", reason=reason)
        self.segment.skipped_events += len(ids)
        self.segment.skip_reasons[reason] += len(ids)

    def profile_ids(self, ids: Mapping[str, str]) -> None:
        self._write(record_profile_ids, ids=ids)

    def consents_sending(
        self, channel: Channel, *, subscribe: Sequence[str], unsubscribe: Sequence[str]
    ) -> None:
        statuses = {address: "subscribing" for address in subscribe}
        statuses.update({address: "unsubscribing" for address in unsubscribe})
        self._write(record_consents, channel=channel, statuses=statuses)

    def consents(
        self,
        channel: Channel,
        *,
        subscribed: Sequence[str],
        unsubscribed: Sequence[str],
        failed: Sequence[str] = (),
    ) -> None:
        self.sync_report.consents_failed += len(failed)
        failpoint("sync_before_ack")
        statuses = {address: "subscribed" for address in subscribed}
        statuses.update({address: "unsubscribed" for address in unsubscribed})
        self._write(record_consents, channel=channel, statuses=statuses)
        self.sync_report.consents_granted += len(subscribed)
        self.sync_report.consents_revoked += len(unsubscribed)

    def _write(self, record: Callable[..., None], **values: Any) -> None:
        """One ledger write in its own short transaction: no connection is held while the
        destination works (DuckDB has a single writer). A DuckDB file another process is
        writing to is waited for: what the vendor confirmed must reach the ledger, or the next
        sync sends it again."""
        pause = 0.05
        waited = 0.0
        while True:
            try:
                with connect(self.settings.warehouse) as connection:
                    record(
                        connection,
                        state_schema=self.settings.state_schema,
                        destination=self.destination,
                        **values,
                    )
                return
            except WarehouseBusy:
                if waited >= LEDGER_BUSY_WAIT_SECONDS:
                    raise
                time.sleep(pause)
                waited += pause
                pause = min(pause * 2, 2.0)


class DestinationFailed(CohortflowError):
    """A destination failed as a whole: it refused the credentials, or its settings or options
    cannot be used. `report` is what it did before, all of it recorded; `sync_all` reports it
    with the error and goes on with the other destinations."""

    def __init__(self, report: SyncReport) -> None:
        self.report = report
        super().__init__(report.error)


def run_sync(
    settings: Settings,
    *,
    destination: str,
    configs: Mapping[str, SegmentConfig],
    environ: Mapping[str, str],
    checks: CheckReport | None = None,
) -> SyncReport:
    """Sync every segment routed to `destination` as of the last recorded run. A segment a
    failed blocking check in `checks` holds is reported as blocked and gets no call at all; a
    holding check on data every segment depends on (raw data, dbt tests, consent) also stops
    consent from being granted or withdrawn: a broken consents load must not unsubscribe people.
    The CLI and the Dagster asset both come here with the checks they ran, so "check, then
    sync" has one meaning.

    Raises:
        DestinationFailed: credentials or options are missing or invalid, or the destination
            refused the credentials; its report holds what landed before. Row, event and
            segment failures are reported, not raised.
        WarehouseError: the warehouse cannot be reached.
    """
    started = time.perf_counter()
    routed = routed_to(configs, destination)
    holds = checks.holds_for(destination, list(routed)) if checks else {}
    consent_hold = checks.destination_hold(destination) if checks else None
    report = SyncReport(destination=destination, run_id=None)
    own_sync = registration(destination).run
    try:
        if own_sync is not None:
            own_sync(settings, routed, holds, environ, report)
            return _finished(report, started)
        with open_destination(destination, environ) as (target, client):
            try:
                _sync(settings, target, report, routed, holds, consent_hold, client)
            finally:
                stats = client.stats
                report.api_calls = stats.requests
                report.retries = stats.retries
                report.rate_limited = stats.rate_limited
                report.rate_limit_wait_seconds = _waited(client)
    except WarehouseError:
        raise
    except CohortflowError as error:
        # Settings, options, or consent refused for the whole account.
        report.error = _destination_error(destination, error)
    return _finished(report, started)


def _finished(report: SyncReport, started: float) -> SyncReport:
    """`report` timed; raised as `DestinationFailed` when the destination failed as a whole."""
    report.duration_seconds = time.perf_counter() - started
    if report.error is not None:
        raise DestinationFailed(report)
    return report


def _sync(
    settings: Settings,
    target: Destination,
    report: SyncReport,
    routed: Mapping[str, SegmentConfig],
    holds: Mapping[str, str],
    consent_hold: str | None,
    client: HttpClient,
) -> None:
    """`run_sync`'s work, counted into `report`. A destination refusing the credentials fails
    it as a whole (every later call would be refused too): the remaining segments are `not
    sent`; any other failure fails only its segment."""
    destination = report.destination
    target.check_options(
        {config.segment: config.destination(destination).options for config in routed.values()}
    )
    with connect(settings.warehouse) as connection:
        report.run_id = _start_baselines(connection, settings, destination, routed)
        plan = build_plan(
            connection,
            state_schema=settings.state_schema,
            configs=routed,
            destination=destination,
            sample_size=0,
        )
    sink = _LedgerSink(settings, destination, report)
    sending: list[tuple[SegmentPlan, SegmentReport, SegmentWork]] = []
    for segment_plan in plan.segments:
        segment_report = SegmentReport(destination, segment_plan.segment, segment_plan.plan_id)
        report.segments.append(segment_report)
        held = holds.get(segment_plan.segment)
        if held is not None:
            segment_report.status = "blocked"
            segment_report.message = held
            continue
        if segment_plan.blocked:
            segment_report.status = "blocked"
            segment_report.message = segment_plan.block_reason
            continue
        config = routed[segment_plan.segment]
        with connect(settings.warehouse) as connection:
            work, unaddressed = segment_work(
                connection,
                state_schema=settings.state_schema,
                plan=segment_plan,
                target=config.destination(destination),
            )
            if segment_plan.moving_from is not None:
                work = move_work(
                    connection, state_schema=settings.state_schema, plan=segment_plan, work=work
                )
        sink.segment = segment_report
        sink.skipped_events(unaddressed, f"no {config.key} to address the event to")
        if work.empty:
            segment_report.status = "synced" if unaddressed else "up to date"
            continue
        sending.append((segment_plan, segment_report, work))
    # Every segment's exits before any segment's entries: a leaver stops receiving one
    # segment's messages before a newcomer is welcomed into another's.
    exited = [
        (segment_plan, segment_report, work)
        for segment_plan, segment_report, work in sending
        if _send(target.sync_exits, work, segment_report, report, sink, client)
    ]
    unfinished = _finish_moves(settings, plan, report)
    for segment_plan, segment_report, work in exited:
        entries: SegmentWork | None = work
        if segment_plan.moving_from is not None or segment_plan.target in unfinished:
            entries = _entries_after_move(
                settings, segment_plan, segment_report, unfinished, routed, work
            )
        if entries is not None:
            _send(target.sync_entries, entries, segment_report, report, sink, client)
    for _, segment_report, _ in sending:
        if segment_report.status not in ("failed", "not sent") and (
            segment_report.failed or segment_report.failed_events
        ):
            segment_report.status = "failed"
            segment_report.message = _failures_message(segment_report)
    sink.segment = None
    sync_consents = getattr(target, "sync_consents", None)
    report.consent_held = consent_hold
    if sync_consents is not None and consent_hold is None and report.error is None:
        synced = {
            s.segment: routed[s.segment].key for s in report.segments if s.status != "blocked"
        }
        for channel in registration(destination).consent_channels:
            with connect(settings.warehouse) as connection:
                consent = consent_work(
                    connection,
                    state_schema=settings.state_schema,
                    destination=destination,
                    channel=channel,
                    segments=synced,
                )
            if not consent.empty:
                sync_consents(consent, sink)


def _finish_moves(settings: Settings, plan: SyncPlan, report: SyncReport) -> dict[str, str]:
    """Record the new list or tag of every segment whose move emptied the old one, and return
    the old places still holding members (by name, the segment moving away from each): nothing
    may be added there until that move is done, or its retry would take them away again."""
    unfinished: dict[str, str] = {}
    moving = [p for p in plan.segments if p.moving_from is not None]
    if not moving:
        return unfinished
    with connect(settings.warehouse) as connection:
        for segment_plan in moving:
            moved = settle_target(
                connection,
                state_schema=settings.state_schema,
                destination=report.destination,
                segment=segment_plan.segment,
                target=segment_plan.target,
            )
            if not moved:
                unfinished[str(segment_plan.moving_from)] = segment_plan.segment
    return unfinished


def _entries_after_move(
    settings: Settings,
    segment_plan: SegmentPlan,
    segment_report: SegmentReport,
    unfinished: Mapping[str, str],
    routed: Mapping[str, SegmentConfig],
    work: SegmentWork,
) -> SegmentWork | None:
    """The entries of a segment that moved, read again now that the old place is empty (every
    member is an add at the new one), or None, with the reason in its report, while a move
    that must go first is unfinished: its own, or another segment's away from this target
    (`work`, the segment's entries as planned, has something to add there)."""
    destination = segment_plan.destination
    blocking = unfinished.get(str(segment_plan.target))
    adding = bool(work.adds or work.updates) or any(e.change == "entered" for e in work.events)
    if segment_plan.moving_from is None and (blocking is None or not adding):
        return work
    if unfinished.get(str(segment_plan.moving_from)) == segment_plan.segment:
        segment_report.status = "failed"
        segment_report.message = (
            f"{destination}/{segment_plan.segment}: moving from {segment_plan.moving_from!r} to "
            f"{segment_plan.target!r}, but not every member was removed from "
            f"{segment_plan.moving_from!r} yet; nobody is added to {segment_plan.target!r} until "
            "they are (the next sync goes on with the move)."
        )
        return None
    if blocking is not None:
        segment_report.status = "failed"
        segment_report.message = (
            f"{destination}/{segment_plan.segment}: not added to {segment_plan.target!r} yet: "
            f"segment {blocking} is still moving its members away from it (the next sync goes "
            "on with that move, then adds these)."
        )
        return None
    if segment_plan.moving_from is not None:
        segment_report.moved_from = segment_plan.moving_from
        segment_report.moved_to = segment_plan.target
    config = routed[segment_plan.segment]
    with connect(settings.warehouse) as connection:
        work, _ = segment_work(
            connection,
            state_schema=settings.state_schema,
            plan=segment_plan,
            target=config.destination(destination),
        )
    return work


def _send(
    phase: Callable[[SegmentWork, AckSink], None],
    work: SegmentWork,
    segment_report: SegmentReport,
    report: SyncReport,
    sink: _LedgerSink,
    client: HttpClient,
) -> bool:
    """One phase of one segment (its exits or its entries), its calls and waits counted into
    its report; False if the segment failed as a whole, so its next phase is not sent."""
    destination = report.destination
    if report.error is not None:
        segment_report.status = "not sent"
        segment_report.message = (
            f"{destination}/{work.segment}: not sent, {destination} had refused the credentials"
        )
        return False
    sink.segment = segment_report
    calls, waited = client.stats.requests, _waited(client)
    try:
        phase(work, sink)
    except WarehouseError:
        raise
    except CohortflowError as error:
        segment_report.status = "failed"
        if _refused_credentials(error):
            report.error = _destination_error(destination, error)
            segment_report.message = (
                f"{destination}/{work.segment}: stopped when {destination} refused the credentials"
            )
        else:
            # The vendor failed the segment as a whole (retries exhausted on a lookup, an
            # unexpected answer): what it confirmed is recorded, the rest is retried next run,
            # and the other segments still go out.
            segment_report.message = (
                f"{destination}/{work.segment}: {error}. Confirmed rows are recorded; the rest "
                "is sent again by the next sync."
            )
        return False
    finally:
        segment_report.api_calls += client.stats.requests - calls
        segment_report.rate_limit_wait_seconds += _waited(client) - waited
    return True


def _refused_credentials(error: CohortflowError) -> bool:
    return isinstance(error, AuthError)


def _destination_error(destination: str, error: CohortflowError) -> str:
    return (
        f"{destination}: {str(error).rstrip('.')}. Nothing more was sent to {destination}; what "
        "it confirmed before is recorded."
    )


def _failures_message(segment: SegmentReport) -> str:
    """One line for a segment whose sync ran but left rows or events unacknowledged."""
    reason, _ = segment.reasons.most_common(1)[0]
    return (
        f"{segment.destination}/{segment.segment}: {_plural(segment.failed, 'row')} and "
        f"{_plural(segment.failed_events, 'event')} failed (most often: {reason}); what landed "
        "is recorded, the next sync retries the rest (refused rows once their data changes)."
    )


def _plural(count: int, noun: str) -> str:
    return f"{count:,} {noun}" if count == 1 else f"{count:,} {noun}s"


def _waited(client: HttpClient) -> float:
    """Seconds the client has spent waiting for rate limits and before retries."""
    return client.stats.limiter_wait_seconds + client.stats.retry_wait_seconds


def _start_baselines(
    connection: Connection,
    settings: Settings,
    destination: str,
    routed: Mapping[str, SegmentConfig],
) -> str | None:
    """Bring the state forward (the sync's one migration: the ledger's writes assume it), record
    where each segment's members are kept unless a move away from the recorded place is due,
    then mark the last run as where this destination starts each segment it has not synced yet:
    members who were already in the segment are added to the list, without "Entered" events."""
    migrate(connection, settings.state_schema)
    for segment, config in routed.items():
        settle_target(
            connection,
            state_schema=settings.state_schema,
            destination=destination,
            segment=segment,
            target=segment_target(config.destination(destination), segment),
        )
    run_id = last_run_id(connection, settings.state_schema)
    if run_id is not None:
        for segment in routed:
            ensure_baseline(
                connection,
                state_schema=settings.state_schema,
                destination=destination,
                segment=segment,
                run_id=run_id,
            )
    return run_id


@dataclass(frozen=True)
class SyncOutcome:
    """Every destination a run synced, and those it could not, with the reason."""

    reports: tuple[SyncReport, ...]
    skipped: Mapping[str, str]
    checks: CheckReport | None = None


def sync_all(
    settings: Settings,
    *,
    configs: Mapping[str, SegmentConfig],
    environ: Mapping[str, str],
    on_step: Callable[[str], None] | None = None,
    only: str | None = None,
) -> SyncOutcome:
    """Check the data, then sync every destination some segment is routed to (or `only` that
    one) and the environment has credentials for; the others are skipped with the reason (a run
    without credentials still succeeds). A segment a failed blocking check holds is not sent. A
    destination that fails as a whole is reported with its error (`SyncReport.error`), and the
    others are still synced.

    Raises:
        CohortflowError: `only` names a destination no segment is routed to.
    """
    step = on_step or (lambda _: None)
    available = []
    skipped = {}
    names = routed_destinations(configs)
    if only is not None:
        require_routed(configs, only)
        names = [only]
    for name in names:
        reason = unavailable_reason(name, environ, routed_blocks(configs, name))
        if reason is None:
            available.append(name)
        else:
            skipped[name] = reason
    if only is not None and only in skipped:
        # Asked for by name: fail with the destination's own explanation of what is missing.
        if registration(only).open is not None:
            with open_destination(only, environ):
                pass
        raise CohortflowError(f"{only} cannot be synced: {skipped[only]}.")
    if not available:
        return SyncOutcome(reports=(), skipped=skipped)
    step("checking data quality")
    checks = run_checks(settings, configs=configs)
    reports = []
    for name in available:
        step(f"syncing {name}")
        try:
            report = run_sync(
                settings, destination=name, configs=configs, environ=environ, checks=checks
            )
        except DestinationFailed as failure:
            # Reported on its own destination: the others still sync, and the run's summary
            # (whose build and changes are recorded) is still printed.
            report = failure.report
        reports.append(report)
    return SyncOutcome(reports=tuple(reports), skipped=skipped, checks=checks)
