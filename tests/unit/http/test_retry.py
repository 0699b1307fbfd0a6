"""Backoff grows, is capped, is jittered, and never undercuts what the server asked for."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from activations.http import RetryPolicy
from activations.http.retry import parse_retry_after

NOW = datetime(2026, 7, 15, 12, 0, 0, tzinfo=UTC)


def test_delay_doubles_from_base_until_the_cap() -> None:
    policy = RetryPolicy(base=0.5, factor=2.0, cap=30.0, jitter=False)
    delays = [policy.delay(attempt) for attempt in range(1, 10)]
    assert delays == [0.5, 1.0, 2.0, 4.0, 8.0, 16.0, 30.0, 30.0, 30.0]


def test_huge_attempt_numbers_stay_at_the_cap() -> None:
    assert RetryPolicy(factor=10.0, jitter=False).delay(5000) == 30.0


@given(attempt=st.integers(1, 50), draw=st.floats(0.0, 1.0, exclude_max=True))
def test_full_jitter_stays_between_zero_and_the_backoff(attempt: int, draw: float) -> None:
    policy = RetryPolicy(random=lambda: draw)
    delay = policy.delay(attempt)
    assert delay is not None
    assert 0.0 <= delay <= policy.backoff(attempt)
    assert delay == pytest.approx(draw * policy.backoff(attempt))


def test_jitter_uses_the_injected_random_source() -> None:
    assert RetryPolicy(random=lambda: 0.0).delay(3) == 0.0
    assert RetryPolicy(random=lambda: 0.5).delay(3) == pytest.approx(1.0)


@given(
    attempt=st.integers(1, 20),
    retry_after=st.floats(0.0, 300.0),
    draw=st.floats(0.0, 1.0, exclude_max=True),
)
def test_retry_after_is_never_undercut(attempt: int, retry_after: float, draw: float) -> None:
    policy = RetryPolicy(random=lambda: draw)
    delay = policy.delay(attempt, retry_after)
    assert delay is not None
    assert delay >= retry_after
    assert delay == pytest.approx(max(retry_after, draw * policy.backoff(attempt)))


def test_retry_after_longer_than_the_maximum_gives_up() -> None:
    policy = RetryPolicy(max_retry_after=300.0)
    assert policy.delay(1, 300.0) == 300.0
    assert policy.delay(1, 301.0) is None


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("3", 3.0),
        ("0", 0.0),
        (" 120 ", 120.0),
        ("1.5", 1.5),
        ("Wed, 15 Jul 2026 12:00:30 GMT", 30.0),
        ("Wed, 15 Jul 2026 11:59:00 GMT", 0.0),
        ("-5", None),
        ("soon", None),
        ("", None),
        (None, None),
        ("3 seconds", None),
        ("Wed, 99 Foo 2026 12:00:30 GMT", None),
    ],
)
def test_parse_retry_after(value: str | None, expected: float | None) -> None:
    assert parse_retry_after(value, now=NOW) == expected


def test_parse_retry_after_http_date_defaults_to_now() -> None:
    later = datetime.now(UTC) + timedelta(seconds=120)
    header = later.strftime("%a, %d %b %Y %H:%M:%S GMT")
    seconds = parse_retry_after(header)
    assert seconds is not None and 100 < seconds <= 120


def test_parse_retry_after_treats_a_naive_now_as_utc() -> None:
    naive = NOW.replace(tzinfo=None)
    assert parse_retry_after("Wed, 15 Jul 2026 12:00:10 GMT", now=naive) == 10.0


@pytest.mark.parametrize(
    "kwargs",
    [{"max_attempts": 0}, {"base": -1.0}, {"factor": 0.5}, {"cap": -1.0}, {"max_retry_after": -1}],
)
def test_policy_refuses_nonsense(kwargs: dict[str, float]) -> None:
    with pytest.raises(ValueError):
        RetryPolicy(**kwargs)  # type: ignore[arg-type]
