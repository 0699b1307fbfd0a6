"""What a check found, in terms a person can act on, and which syncs it holds back."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

CheckStatus = Literal["passed", "warned", "failed"]
STATUS_ORDER: tuple[CheckStatus, ...] = ("failed", "warned", "passed")


@dataclass(frozen=True)
class CheckResult:
    """One check on one subject.

    `segment` and `destination` say which syncs a blocking failure holds: both None for raw
    data and dbt tests (every sync), a segment alone for its every destination, both for one
    segment at one destination.
    """

    check: str
    subject: str
    status: CheckStatus
    blocking: bool
    message: str
    observed: float | None = None
    threshold: float | None = None
    segment: str | None = None
    destination: str | None = None
    samples: tuple[Mapping[str, Any], ...] = ()
    failure_id: str | None = None
    approved_by: str | None = None

    @property
    def holds(self) -> bool:
        """Whether this result stops the syncs in its scope."""
        return self.status == "failed" and self.blocking and self.approved_by is None

    @property
    def label(self) -> str:
        """The status as a person reads it: whether a failure holds syncs, and why not."""
        if self.holds:
            return "FAILED (holds syncs)"
        if self.status == "failed":
            return (
                f"failed (approved by {self.approved_by})" if self.approved_by else "failed (warns)"
            )
        return self.status

    @property
    def samples_text(self) -> str:
        """The sample rows as one line: `person_id=p1, key=jo***@x.com; person_id=p2, ...`."""
        return "; ".join(", ".join(f"{k}={v}" for k, v in s.items()) for s in self.samples)

    def covers(self, destination: str, segment: str) -> bool:
        return self.segment in (None, segment) and self.destination in (None, destination)

    def as_dict(self) -> dict[str, Any]:
        return {
            "check": self.check,
            "subject": self.subject,
            "status": self.status,
            "blocking": self.blocking,
            "holds": self.holds,
            "message": self.message,
            "observed": self.observed,
            "threshold": self.threshold,
            "segment": self.segment,
            "destination": self.destination,
            "samples": [dict(sample) for sample in self.samples],
            "failure_id": self.failure_id,
            "approved_by": self.approved_by,
        }


def failure_id(result: CheckResult, run_id: str | None) -> str:
    """A short id for one failure of one run: approving it covers exactly that failure (its
    check, subject, numbers and finding), so the next run's failure, or another expectation
    failing on the same subject, asks again."""
    text = f"{result.check}|{result.subject}|{run_id or ''}|{result.observed!r}|{result.message}"
    return "chk-" + hashlib.sha256(text.encode()).hexdigest()[:10]


@dataclass(frozen=True)
class CheckReport:
    """Every check of one evaluation, for the run it checked."""

    check_run_id: str
    run_id: str | None
    checked_at: datetime
    results: tuple[CheckResult, ...] = field(default_factory=tuple)
    # `Warehouse.describe()`: where the checked data is, never a password.
    warehouse: str | None = None

    @property
    def holding(self) -> list[CheckResult]:
        """The failed blocking checks nobody approved."""
        return [result for result in self.results if result.holds]

    @property
    def warnings(self) -> list[CheckResult]:
        """Failed non-blocking and warned checks: reported, never stopping a sync."""
        return [
            result
            for result in self.results
            if result.status == "warned" or (result.status == "failed" and not result.holds)
        ]

    def holds_for(self, destination: str, segments: Sequence[str]) -> dict[str, str]:
        """Segment -> why its sync to `destination` is held, for the segments held."""
        holds: dict[str, str] = {}
        for segment in segments:
            reasons = [
                hold_reason(result)
                for result in self.holding
                if result.covers(destination, segment)
            ]
            if reasons:
                holds[segment] = " ".join(reasons)
        return holds

    def destination_hold(self, destination: str) -> str | None:
        """Why nothing at `destination` beyond its segments (consent) may be synced: a holding
        failure not scoped to one segment (raw data, dbt tests, the destination's consent)."""
        reasons = [
            hold_reason(result)
            for result in self.holding
            if result.segment is None and result.destination in (None, destination)
        ]
        return " ".join(reasons) or None

    def counts(self) -> dict[str, int]:
        return {status: sum(r.status == status for r in self.results) for status in STATUS_ORDER}

    def as_dict(self) -> dict[str, Any]:
        return {
            "check_run_id": self.check_run_id,
            "run_id": self.run_id,
            "checked_at": self.checked_at.isoformat(),
            "warehouse": self.warehouse,
            "counts": self.counts(),
            "holding": len(self.holding),
            "results": [result.as_dict() for result in self.results],
        }


def hold_reason(result: CheckResult) -> str:
    """One sentence: which check, on what, why, and how to let it through."""
    return (
        f"check {result.check} failed on {result.subject}: {result.message} If the data is "
        f"right, approve it with `cohortflow approve {result.failure_id}` or make the check "
        "non-blocking (docs/data-quality.md)."
    )
