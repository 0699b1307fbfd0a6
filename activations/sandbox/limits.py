"""Fixed-window rate limits per account and operation on a clock that can run faster than wall time.

Why: Klaviyo documents fixed windows (burst 1 s, steady 60 s, some operations also a daily cap),
counted per account per operation, all enforced at once. A client that paces itself with a
token bucket or a sliding window can still hit a fixed-window limit at a window edge, so the
sandbox must count exactly the same way to show it.

Windows are measured in *API seconds*: API time = wall time x `time_scale`, so a test at scale 60
meets the real "150 per minute" ceiling once per wall second. Windows start when the clock starts
(API second 0), and a refused request does not count against any window.
"""

from __future__ import annotations

import math
import re
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
_LIMIT_TEXT = re.compile(r"^\s*(\d+)\s*/\s*([smhd])\s*$")


@dataclass(frozen=True)
class Limit:
    """At most `count` requests per fixed window of `window` API seconds."""

    name: str
    count: int
    window: float


def parse_limit(name: str, text: str) -> Limit:
    """`"10/s"`, `"150/m"`, `"150/d"` -> a Limit (the notation of `x-klaviyo-ratelimit`)."""
    found = _LIMIT_TEXT.match(text)
    if found is None:
        raise ValueError(f"rate limit {name}={text!r} is not of the form N/s, N/m, N/h or N/d")
    return Limit(name, int(found.group(1)), float(_UNITS[found.group(2)]))


def check_time_scale(value: float) -> float:
    """A time scale must be a positive finite number of API seconds per wall second."""
    if not math.isfinite(value) or value <= 0:
        raise ValueError(f"time_scale must be a positive finite number, got {value!r}")
    return float(value)


class ApiClock:
    """API seconds since the sandbox started: wall seconds x `time_scale`.

    Args:
        time_scale: API seconds per wall second (>= 1 runs the vendor's limits faster).
        monotonic: the wall clock, injectable so tests can step time exactly.
        started: the UTC datetime API second 0 maps to, for timestamps in responses.
    """

    def __init__(
        self,
        time_scale: float = 1.0,
        *,
        monotonic: Callable[[], float] = time.monotonic,
        started: datetime | None = None,
    ) -> None:
        self.time_scale = check_time_scale(time_scale)
        self._monotonic = monotonic
        self._origin = monotonic()
        self.started = started or datetime.now(UTC)

    def now(self) -> float:
        """API seconds elapsed since the clock started."""
        return (self._monotonic() - self._origin) * self.time_scale

    def datetime_at(self, api_seconds: float) -> datetime:
        """The UTC datetime of an API instant."""
        return self.started + timedelta(seconds=api_seconds)

    def wall_seconds(self, api_seconds: float) -> float:
        """How long `api_seconds` of API time last on the wall clock."""
        return api_seconds / self.time_scale


@dataclass(frozen=True)
class WindowState:
    """One window after a decision: its limit, what is left and API seconds until it resets."""

    limit: Limit
    used: int
    reset_in: float

    @property
    def remaining(self) -> int:
        """Requests still allowed in this window."""
        return max(self.limit.count - self.used, 0)


@dataclass(frozen=True)
class Decision:
    """Whether a request may proceed, and the window states to report.

    `retry_after` is the whole number of API seconds (at least 1, rounded up) until the request
    would be allowed: the reset of the full window, or the latest reset when several are full.
    0 when allowed. `at` is the API instant of the decision.
    """

    allowed: bool
    retry_after: int
    at: float
    windows: tuple[WindowState, ...]

    def window(self, name: str) -> WindowState | None:
        """The state of the window called `name` ("burst", "steady", ...), if it applies."""
        return next((w for w in self.windows if w.limit.name == name), None)


class FixedWindowLimiter:
    """Counts requests per (account, operation, window) in fixed windows of API time. Thread-safe.

    Args:
        clock: the API clock every window is measured on.
    """

    def __init__(self, clock: ApiClock) -> None:
        self.clock = clock
        self._lock = threading.Lock()
        # (account, operation, window name) -> (window index, requests counted in it)
        self._counts: dict[tuple[str, str, str], tuple[int, int]] = {}

    def acquire(self, account: str, operation: str, limits: Sequence[Limit]) -> Decision:
        """Count one request if every window has room; refuse it (counting nothing) otherwise."""
        with self._lock:
            now = self.clock.now()
            current: list[tuple[Limit, int, int]] = []
            for limit in limits:
                index = math.floor(now / limit.window)
                seen_index, used = self._counts.get((account, operation, limit.name), (index, 0))
                current.append((limit, index, used if seen_index == index else 0))
            blocked = [(limit, index) for limit, index, used in current if used >= limit.count]
            if blocked:
                wait = max((index + 1) * limit.window - now for limit, index in blocked)
                states = tuple(
                    WindowState(limit, used, (index + 1) * limit.window - now)
                    for limit, index, used in current
                )
                return Decision(False, max(1, math.ceil(wait)), now, states)
            states_after: list[WindowState] = []
            for limit, index, used in current:
                self._counts[(account, operation, limit.name)] = (index, used + 1)
                states_after.append(WindowState(limit, used + 1, (index + 1) * limit.window - now))
            return Decision(True, 0, now, tuple(states_after))


class SlidingWindowLimiter:
    """Counts requests per (account, limit name) over the last `window` API seconds: a limit
    shared by several operations (a brand-wide one) is the same `Limit.name` in each.

    Why: Omnisend documents a sliding window (400 per minute per brand): unlike a fixed window,
    a burst at a window edge is refused, and a refused client waits only until the oldest
    counted request leaves the window. Refused requests are not counted. Thread-safe.

    Args:
        clock: the API clock every window is measured on.
    """

    def __init__(self, clock: ApiClock) -> None:
        self.clock = clock
        self._lock = threading.Lock()
        self._seen: dict[tuple[str, str], deque[float]] = {}

    def acquire(self, account: str, limits: Sequence[Limit]) -> Decision:
        """Count one request if every window has room; refuse it (counting nothing) otherwise."""
        with self._lock:
            now = self.clock.now()
            current: list[tuple[Limit, deque[float]]] = []
            for limit in limits:
                seen = self._seen.setdefault((account, limit.name), deque())
                while seen and seen[0] <= now - limit.window:
                    seen.popleft()
                current.append((limit, seen))
            blocked = [(limit, seen) for limit, seen in current if len(seen) >= limit.count]
            if blocked:
                wait = max(seen[-limit.count] + limit.window - now for limit, seen in blocked)
                states = tuple(
                    WindowState(limit, len(seen), _reset_in(seen, limit, now))
                    for limit, seen in current
                )
                return Decision(False, max(1, math.ceil(wait)), now, states)
            for _, seen in current:
                seen.append(now)
            return Decision(
                True,
                0,
                now,
                tuple(
                    WindowState(limit, len(seen), _reset_in(seen, limit, now))
                    for limit, seen in current
                ),
            )


def _reset_in(seen: deque[float], limit: Limit, now: float) -> float:
    """API seconds until the oldest counted request leaves the window."""
    return seen[0] + limit.window - now if seen else 0.0
