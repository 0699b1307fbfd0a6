"""Client-side pacing that keeps every vendor endpoint under its documented request ceilings.

Klaviyo enforces two FIXED windows per account and operation: a burst window of 1 s and a steady
window of 60 s (Omnisend: 400 per minute, sliding). A classic refilling token bucket is the wrong
tool here: with capacity N, after an idle spell it spends its N saved tokens and keeps refilling
while it does, so it lets through close to 2N requests inside one 60 s window and earns 429s.

`RateLimiter` keeps a sliding-window log instead: the times of the last N grants per window. A
request is granted only when fewer than N grants happened in the last window length. That bounds
every window of that length, wherever it starts, so no fixed window the vendor draws can see more
than N either; and because a grant waits only for the oldest logged one to age out, the limiter
sustains exactly the ceiling. Memory per bucket is the last N timestamps (a bounded deque).
"""

from __future__ import annotations

import math
import re
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

from activations.http.timescale import check_scale

BURST_WINDOW = 1.0
STEADY_WINDOW = 60.0

_RATE = re.compile(r"^\s*(\d+)\s*/\s*(s|sec|second|m|min|minute)\s*$", re.IGNORECASE)


@dataclass(frozen=True)
class RateLimit:
    """The documented ceilings of one vendor endpoint (or endpoint group).

    Attributes:
        name: bucket id shared by every call counted together, e.g. "klaviyo:bulk_import_profiles".
        burst: requests allowed per 1 s window, or None when only a per-minute limit exists.
        steady: requests allowed per 60 s window.
    """

    name: str
    burst: int | None
    steady: int

    def __post_init__(self) -> None:
        if not self.name:
            raise ValueError("a RateLimit needs a name (its bucket id)")
        if self.burst is not None and self.burst < 1:
            raise ValueError(f"{self.name}: burst must be >= 1 or None, got {self.burst}")
        if self.steady < 1:
            raise ValueError(f"{self.name}: steady must be >= 1, got {self.steady}")

    @classmethod
    def parse(cls, name: str, burst: str | None = None, steady: str | None = None) -> RateLimit:
        """Build a limit from spec strings such as "10/s" and "150/m".

        The unit decides the window, not the argument position, so `parse(name, "400/m")` is a
        per-minute-only limit (Omnisend) with `burst=None`.

        Args:
            name: the bucket id.
            burst: a per-second rate ("10/s"), or None.
            steady: a per-minute rate ("150/m").

        Raises:
            ValueError: a rate is malformed, a window is given twice, or no per-minute rate.
        """
        per_window: dict[str, int] = {}
        for text in (burst, steady):
            if text is None:
                continue
            match = _RATE.match(text)
            if match is None:
                raise ValueError(
                    f"{name}: cannot read rate {text!r}; expected e.g. '10/s', '150/m'"
                )
            unit = "s" if match.group(2).lower().startswith("s") else "m"
            if unit in per_window:
                raise ValueError(f"{name}: two per-{unit} rates given")
            per_window[unit] = int(match.group(1))
        if "m" not in per_window:
            raise ValueError(f"{name}: a per-minute rate is required, e.g. '150/m'")
        return cls(name=name, burst=per_window.get("s"), steady=per_window["m"])


@dataclass
class _Bucket:
    limit: RateLimit
    burst_log: deque[float] | None
    steady_log: deque[float]
    blocked_until: float = -math.inf

    @classmethod
    def for_limit(cls, limit: RateLimit) -> _Bucket:
        burst_log: deque[float] | None = None
        if limit.burst is not None:
            burst_log = deque(maxlen=limit.burst)
        return cls(limit=limit, burst_log=burst_log, steady_log=deque(maxlen=limit.steady))

    def ready_at(self, burst_window: float, steady_window: float) -> float:
        """Earliest time a grant keeps both windows at or under their ceilings."""
        ready = self.blocked_until
        for log, window in ((self.burst_log, burst_window), (self.steady_log, steady_window)):
            if log is not None and len(log) == log.maxlen:
                # Same expression as any checker's `oldest + window`, so float rounding can never
                # make a grant land inside the window it must stay out of.
                ready = max(ready, log[0] + window)
        return ready

    def grant(self, now: float) -> None:
        if self.burst_log is not None:
            self.burst_log.append(now)
        self.steady_log.append(now)


class RateLimiter:
    """Blocks callers until a request fits every window of its bucket; shared by all threads.

    Buckets are keyed by (account, limit name): two accounts never share a quota, and every call
    counted against one vendor limit shares one bucket. Pass the same limiter to every client
    talking to one account so they share its quota.

    Args:
        time_scale: API seconds per wall second; both windows are divided by it.
        clock: monotonic wall clock (seconds).
        sleep: how to wait (wall seconds).
    """

    def __init__(
        self,
        time_scale: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.time_scale = check_scale(time_scale)
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.Lock()
        self._buckets: dict[tuple[str, str], _Bucket] = {}

    def __repr__(self) -> str:
        return f"RateLimiter(time_scale={self.time_scale:g}, buckets={len(self._buckets)})"

    @property
    def burst_window(self) -> float:
        """Length of the burst window in wall seconds."""
        return BURST_WINDOW / self.time_scale

    @property
    def steady_window(self) -> float:
        """Length of the steady window in wall seconds."""
        return STEADY_WINDOW / self.time_scale

    def acquire(self, limit: RateLimit, account: str = "") -> float:
        """Wait until one request may be sent without exceeding either window, and count it.

        Args:
            limit: the endpoint's ceilings (its name is the bucket).
            account: the vendor account the quota belongs to.

        Returns:
            Wall seconds spent waiting.

        Raises:
            ValueError: the bucket name was used before with different ceilings.
        """
        burst_window, steady_window = self.burst_window, self.steady_window
        started: float | None = None
        while True:
            with self._lock:
                # The clock is read under the lock and not again after a grant: the grant time is
                # the last clock reading of this call.
                now = self._clock()
                started = now if started is None else started
                bucket = self._bucket(limit, account)
                ready = bucket.ready_at(burst_window, steady_window)
                if now >= ready:
                    bucket.grant(now)
                    return now - started
            self._sleep(ready - now)

    def penalise(self, limit: RateLimit, account: str, retry_after_seconds_wall: float) -> None:
        """Hold the bucket after a 429: no thread gets a grant before now + the delay.

        Args:
            limit: the endpoint that answered 429.
            account: the vendor account.
            retry_after_seconds_wall: how long to hold, in wall seconds (already time-scaled).
        """
        with self._lock:
            bucket = self._bucket(limit, account)
            until = self._clock() + max(0.0, retry_after_seconds_wall)
            bucket.blocked_until = max(bucket.blocked_until, until)

    def _bucket(self, limit: RateLimit, account: str) -> _Bucket:
        key = (account, limit.name)
        bucket = self._buckets.get(key)
        if bucket is None:
            bucket = self._buckets[key] = _Bucket.for_limit(limit)
        elif bucket.limit != limit:
            raise ValueError(
                f"rate-limit bucket {limit.name!r} is used with two different ceilings; "
                "give each RateLimit its own name"
            )
        return bucket
