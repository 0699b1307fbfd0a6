"""The limiter never exceeds a burst or steady ceiling in any window, and wastes none of them."""

from __future__ import annotations

import math
import threading
import time
from collections import Counter

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from activations.http import RateLimit, RateLimiter
from activations.http.ratelimit import _Bucket

LIMITS = [
    RateLimit("tiny", burst=1, steady=3),
    RateLimit("small", burst=3, steady=10),
    RateLimit("per-minute-only", burst=None, steady=5),
    RateLimit("klaviyo:m", burst=10, steady=150),
    RateLimit("burst-equals-steady", burst=2, steady=2),
]


class FakeClock:
    """Time that moves only when someone sleeps; remembers each thread's last reading."""

    def __init__(self, start: float = 0.0) -> None:
        self.now = start
        self.sleeps: list[float] = []
        self._lock = threading.Lock()
        self._local = threading.local()

    def __call__(self) -> float:
        with self._lock:
            self._local.last = self.now
            return self.now

    @property
    def last_read(self) -> float:
        """The last reading this thread took: the grant time of its last acquire."""
        value: float = self._local.last
        return value

    def sleep(self, seconds: float) -> None:
        assert seconds > 0, "the limiter must never sleep for nothing"
        with self._lock:
            self.sleeps.append(seconds)
            self.now += seconds


def assert_within_limits(grants: list[float], limit: RateLimit, scale: float) -> None:
    """Every window of the limit's lengths, sliding and fixed, holds at most its ceiling."""
    grants = sorted(grants)
    ceilings = [(60.0 / scale, limit.steady)]
    if limit.burst is not None:
        ceilings.append((1.0 / scale, limit.burst))
    for window, ceiling in ceilings:
        # Sliding: the fullest window of this length starts at some grant.
        for start in grants:
            inside = sum(1 for g in grants if start <= g < start + window)
            assert inside <= ceiling, f"{inside} grants in [{start}, {start}+{window})"
        # Fixed windows [k*w, (k+1)*w), as the vendor counts them (exact for power-of-two scales).
        if math.log2(scale).is_integer():
            per_window = Counter(math.floor(g / window) for g in grants)
            assert max(per_window.values()) <= ceiling


@settings(max_examples=150, deadline=None)
@given(
    limit=st.sampled_from(LIMITS),
    scale=st.sampled_from([1.0, 4.0, 10.0]),
    arrivals=st.lists(
        st.floats(min_value=0, max_value=200, allow_nan=False), min_size=1, max_size=120
    ).map(sorted),
)
def test_granted_times_never_exceed_any_window(
    limit: RateLimit, scale: float, arrivals: list[float]
) -> None:
    clock = FakeClock()
    limiter = RateLimiter(time_scale=scale, clock=clock, sleep=clock.sleep)
    grants = []
    for arrival in arrivals:
        clock.now = max(clock.now, arrival / scale)
        waited = limiter.acquire(limit)
        grants.append(clock.last_read)
        assert waited >= 0
    assert_within_limits(grants, limit, scale)


@pytest.mark.parametrize("limit", LIMITS, ids=lambda limit: limit.name)
@pytest.mark.parametrize("scale", [1.0, 60.0])
def test_back_to_back_acquires_run_at_the_ceiling(limit: RateLimit, scale: float) -> None:
    clock = FakeClock()
    limiter = RateLimiter(time_scale=scale, clock=clock, sleep=clock.sleep)
    count = 5 * limit.steady
    waited = sum(limiter.acquire(limit) for _ in range(count))
    # Four full minutes, then the fifth minute's quota as fast as the burst window allows.
    bursts_per_minute = 1 if limit.burst is None else math.ceil(limit.steady / limit.burst)
    fastest = (4 * 60.0 + (bursts_per_minute - 1) * 1.0) / scale
    assert clock.now <= fastest + 1e-9
    assert waited == pytest.approx(clock.now)
    assert count / (clock.now + 60.0 / scale) >= 0.9 * limit.steady / (60.0 / scale)


def test_time_scale_shortens_both_windows() -> None:
    clock = FakeClock()
    limiter = RateLimiter(time_scale=10.0, clock=clock, sleep=clock.sleep)
    limit = RateLimit("scaled", burst=2, steady=4)
    for _ in range(5):
        limiter.acquire(limit)
    # 2 at 0, 2 at 0.1 (burst window 0.1 s), then the steady window (6 s) must pass.
    assert clock.now == pytest.approx(6.0)
    assert limiter.burst_window == pytest.approx(0.1)
    assert limiter.steady_window == pytest.approx(6.0)


def test_penalise_holds_every_caller_until_the_deadline() -> None:
    clock = FakeClock(start=100.0)
    limiter = RateLimiter(clock=clock, sleep=clock.sleep)
    limit = RateLimit("bulk", burst=10, steady=150)
    limiter.acquire(limit, "acct")
    limiter.penalise(limit, "acct", 5.0)
    limiter.penalise(limit, "acct", 1.0)  # a shorter hold does not shorten the first
    assert limiter.acquire(limit, "acct") == pytest.approx(5.0)
    assert clock.now == pytest.approx(105.0)


def test_penalise_touches_only_its_own_bucket() -> None:
    clock = FakeClock()
    limiter = RateLimiter(clock=clock, sleep=clock.sleep)
    limit = RateLimit("bulk", burst=10, steady=150)
    other = RateLimit("events", burst=350, steady=3500)
    limiter.penalise(limit, "acct", 30.0)
    assert limiter.acquire(limit, "other-account") == 0.0
    assert limiter.acquire(other, "acct") == 0.0
    assert clock.now == 0.0


def test_accounts_have_separate_quotas() -> None:
    clock = FakeClock()
    limiter = RateLimiter(clock=clock, sleep=clock.sleep)
    limit = RateLimit("tiny", burst=1, steady=3)
    assert limiter.acquire(limit, "a") == 0.0
    assert limiter.acquire(limit, "b") == 0.0
    assert limiter.acquire(limit, "a") == pytest.approx(1.0)


def test_reusing_a_bucket_name_with_other_ceilings_is_refused() -> None:
    limiter = RateLimiter()
    limiter.acquire(RateLimit("same", burst=1, steady=3))
    with pytest.raises(ValueError, match="two different ceilings"):
        limiter.acquire(RateLimit("same", burst=2, steady=3))


def test_memory_is_bounded_by_the_ceilings() -> None:
    clock = FakeClock()
    limiter = RateLimiter(clock=clock, sleep=clock.sleep)
    limit = RateLimit("small", burst=3, steady=10)
    for _ in range(100):
        limiter.acquire(limit)
    bucket = limiter._buckets[("", "small")]
    assert len(bucket.steady_log) == 10
    assert bucket.burst_log is not None and len(bucket.burst_log) == 3


def test_concurrent_threads_share_one_quota(monkeypatch: pytest.MonkeyPatch) -> None:
    # Yield to other threads between the capacity check and the grant: without the limiter's
    # lock, two threads would both pass the check and overshoot the window.
    record_grant = _Bucket.grant

    def slow_grant(bucket: _Bucket, now: float) -> None:
        time.sleep(0.0001)
        record_grant(bucket, now)

    monkeypatch.setattr(_Bucket, "grant", slow_grant)
    clock = FakeClock()

    def sleep(seconds: float) -> None:
        clock.sleep(seconds)
        time.sleep(0.0001)

    limiter = RateLimiter(clock=clock, sleep=sleep)
    limit = RateLimit("shared", burst=3, steady=20)
    grants: list[float] = []
    grants_lock = threading.Lock()

    def worker() -> None:
        for _ in range(25):
            limiter.acquire(limit, "acct")
            granted_at = clock.last_read
            with grants_lock:
                grants.append(granted_at)

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert len(grants) == 100
    assert_within_limits(grants, limit, 1.0)


@pytest.mark.parametrize(
    ("burst", "steady", "expected"),
    [
        ("10/s", "150/m", (10, 150)),
        ("150/m", "10/s", (10, 150)),
        ("400/m", None, (None, 400)),
        (None, "60/min", (None, 60)),
        (" 75 / S ", "700/M", (75, 700)),
    ],
)
def test_parse_reads_spec_rate_strings(
    burst: str | None, steady: str | None, expected: tuple[int | None, int]
) -> None:
    limit = RateLimit.parse("klaviyo:x", burst, steady)
    assert (limit.burst, limit.steady) == expected
    assert limit.name == "klaviyo:x"


@pytest.mark.parametrize(
    ("burst", "steady"),
    [("10/h", "150/m"), ("ten/s", "150/m"), ("10/s", "20/s"), ("10/s", None), (None, None)],
)
def test_parse_refuses_unreadable_rates(burst: str | None, steady: str | None) -> None:
    with pytest.raises(ValueError):
        RateLimit.parse("x", burst, steady)


@pytest.mark.parametrize(("burst", "steady"), [(0, 10), (1, 0), (-1, 5)])
def test_limits_must_be_positive(burst: int, steady: int) -> None:
    with pytest.raises(ValueError):
        RateLimit("x", burst=burst, steady=steady)


@pytest.mark.parametrize("scale", [0.0, -1.0, math.inf, math.nan])
def test_limiter_refuses_a_meaningless_time_scale(scale: float) -> None:
    with pytest.raises(ValueError):
        RateLimiter(time_scale=scale)
