"""All retry timing in one place: exponential backoff with full jitter that never undercuts the
server's Retry-After.

Full jitter (a uniform draw between 0 and the exponential delay) spreads the retries of many
threads that failed together, so they do not hit the vendor again in lockstep. A Retry-After is a
floor, not a suggestion: retrying earlier earns another 429. A server asking for more than
`max_retry_after` is treated as "not now": the client gives up and the rows stay pending for the
next run, instead of holding a worker for an hour.
"""

from __future__ import annotations

import math
import random as _random
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

_DELTA_SECONDS = re.compile(r"^\d+(\.\d+)?$")


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how patiently the client retries retryable failures.

    All durations are API seconds; the client divides them by the time scale before sleeping.

    Attributes:
        max_attempts: total attempts, the first one included.
        base: delay after the first failed attempt, before jitter.
        factor: growth of the delay per further attempt.
        cap: largest delay before jitter.
        max_retry_after: largest Retry-After waited out; a larger one ends the retries.
        jitter: draw uniformly in [0, delay] (full jitter) instead of waiting the delay itself.
        random: source of uniform numbers in [0, 1), injectable for tests.
    """

    max_attempts: int = 6
    base: float = 0.5
    factor: float = 2.0
    cap: float = 30.0
    max_retry_after: float = 300.0
    jitter: bool = True
    random: Callable[[], float] = field(default=_random.random, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ValueError(f"max_attempts must be >= 1, got {self.max_attempts}")
        if self.base < 0 or self.cap < 0 or self.max_retry_after < 0:
            raise ValueError("base, cap and max_retry_after must not be negative")
        if self.factor < 1:
            raise ValueError(f"factor must be >= 1, got {self.factor}")

    def backoff(self, attempt: int) -> float:
        """The capped exponential delay after failed attempt `attempt` (1-based), unjittered."""
        exponent = max(0, attempt - 1)
        try:
            raw = self.base * self.factor**exponent
        except OverflowError:
            raw = math.inf
        return min(self.cap, raw)

    def delay(self, attempt: int, retry_after: float | None = None) -> float | None:
        """How long to wait after failed attempt number `attempt` (1-based).

        Args:
            attempt: attempts made so far.
            retry_after: what the server asked for (API seconds), if anything.

        Returns:
            Seconds to wait: the jittered backoff, but never less than `retry_after`; None when
            the server asked for more than `max_retry_after` (give up now).
        """
        if retry_after is not None and retry_after > self.max_retry_after:
            return None
        computed = self.backoff(attempt)
        if self.jitter:
            computed *= min(1.0, max(0.0, self.random()))
        return max(computed, retry_after or 0.0)


def parse_retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """Read a Retry-After header in either of its forms (RFC 9110 §10.2.3).

    Args:
        value: the header value: delta-seconds ("120") or an HTTP-date.
        now: the current time for HTTP-dates (default: now, UTC; naive means UTC).

    Returns:
        Seconds to wait (0 for a date in the past), or None when absent or unreadable
        (garbage, negative numbers).
    """
    if value is None:
        return None
    text = value.strip()
    if not text:
        return None
    if _DELTA_SECONDS.match(text):
        return float(text)
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    current = datetime.now(UTC) if now is None else now
    return max(0.0, (_as_utc(when) - _as_utc(current)).total_seconds())


def _as_utc(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment
