"""What a sync reports, per destination and per segment, whatever the destination.

Below the runner and every destination that runs its own sync (SMS): `cohortflow sync --json`,
the CLI's tables and the Dagster assets read one shape.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

# `failed`: a row or event was not acknowledged, or the segment failed as a whole (exit status
# 3); `not sent`: its destination had failed before its turn. Events skipped for want of an
# address are not failures: such a segment is still `synced`.
SegmentStatus = Literal["synced", "blocked", "up to date", "failed", "not sent"]


@dataclass
class SegmentReport:
    """What one segment's sync did, counted from acknowledgements only."""

    destination: str
    segment: str
    plan_id: str
    status: SegmentStatus = "synced"
    added: int = 0
    removed: int = 0
    updated: int = 0
    events: int = 0
    failed: int = 0
    permanent_failures: int = 0
    failed_events: int = 0
    skipped_events: int = 0
    api_calls: int = 0
    rate_limit_wait_seconds: float = 0.0
    reasons: Counter[str] = field(default_factory=Counter)
    skip_reasons: Counter[str] = field(default_factory=Counter)
    message: str | None = None
    moved_from: str | None = None
    moved_to: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "destination": self.destination,
            "segment": self.segment,
            "plan_id": self.plan_id,
            "status": self.status,
            "added": self.added,
            "removed": self.removed,
            "updated": self.updated,
            "events": self.events,
            "failed": self.failed,
            "permanent_failures": self.permanent_failures,
            "failed_events": self.failed_events,
            "skipped_events": self.skipped_events,
            "api_calls": self.api_calls,
            "rate_limit_wait_seconds": round(self.rate_limit_wait_seconds, 3),
            "reasons": dict(self.reasons.most_common()),
            "skip_reasons": dict(self.skip_reasons.most_common()),
            "message": self.message,
            "moved_from": self.moved_from,
            "moved_to": self.moved_to,
        }


@dataclass
class SyncReport:
    """One destination's sync: per segment, consent, and the HTTP traffic it took. `error` says
    why the destination failed as a whole (nothing more was sent once it did)."""

    destination: str
    run_id: str | None
    segments: list[SegmentReport] = field(default_factory=list)
    error: str | None = None
    consents_granted: int = 0
    consents_revoked: int = 0
    consents_failed: int = 0  # consent changes the vendor did not confirm: retried next sync
    consent_held: str | None = None
    api_calls: int = 0
    retries: int = 0
    rate_limited: int = 0
    rate_limit_wait_seconds: float = 0.0
    duration_seconds: float = 0.0
    # A destination with an outbox (SMS): how many of its messages are in each state, and when
    # the earliest deferred one may go (UTC; the Dagster sensor `deferred_texts` reads it).
    outbox: dict[str, int] = field(default_factory=dict)
    next_deferred_at: datetime | None = None

    @property
    def permanent_failures(self) -> int:
        return sum(segment.permanent_failures for segment in self.segments)

    @property
    def blocked(self) -> list[SegmentReport]:
        return [segment for segment in self.segments if segment.status == "blocked"]

    @property
    def failed(self) -> list[SegmentReport]:
        """Segments with rows or events not acknowledged, or failed as a whole (retried by the
        next sync)."""
        return [segment for segment in self.segments if segment.status == "failed"]

    @property
    def status(self) -> Literal["synced", "failed"]:
        """`failed` when the destination or any of its segments failed: exit status 3."""
        return "failed" if self.error is not None or self.failed else "synced"

    def as_dict(self) -> dict[str, Any]:
        return {
            "destination": self.destination,
            "status": self.status,
            "error": self.error,
            "run_id": self.run_id,
            "segments": [segment.as_dict() for segment in self.segments],
            "consents_granted": self.consents_granted,
            "consents_revoked": self.consents_revoked,
            "consents_failed": self.consents_failed,
            "consent_held": self.consent_held,
            "api_calls": self.api_calls,
            "retries": self.retries,
            "rate_limited": self.rate_limited,
            "rate_limit_wait_seconds": round(self.rate_limit_wait_seconds, 3),
            "duration_seconds": round(self.duration_seconds, 3),
            "outbox": dict(self.outbox),
            "next_deferred_at": (
                None if self.next_deferred_at is None else self.next_deferred_at.isoformat()
            ),
        }
