"""An as_of later than now is refused unless asked for: one typo must not block every later run."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from activations.instants import FUTURE_TOLERANCE, FutureAsOfRefused, refuse_future, resolve_as_of

NOW = datetime(2026, 12, 3, 9, 0)


def test_an_as_of_in_the_future_is_refused_with_the_way_out() -> None:
    with pytest.raises(FutureAsOfRefused, match="--allow-future"):
        refuse_future(datetime(2030, 1, 1), now=NOW)


def test_clock_skew_within_the_tolerance_is_accepted() -> None:
    assert refuse_future(NOW + FUTURE_TOLERANCE, now=NOW) == NOW + FUTURE_TOLERANCE
    with pytest.raises(FutureAsOfRefused):
        refuse_future(NOW + FUTURE_TOLERANCE + timedelta(seconds=1), now=NOW)


def test_allow_future_accepts_a_backtest_instant() -> None:
    assert refuse_future(datetime(2030, 1, 1), allow_future=True, now=NOW) == datetime(2030, 1, 1)


def test_the_cli_entry_point_refuses_a_typed_future_instant() -> None:
    with pytest.raises(FutureAsOfRefused):
        resolve_as_of("2999-01-01T00:00:00")
    assert resolve_as_of("2999-01-01T00:00:00", allow_future=True) == datetime(2999, 1, 1)
