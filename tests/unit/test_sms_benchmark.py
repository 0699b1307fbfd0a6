"""The SMS benchmark's arithmetic: the zone its recipients are placed in, the floor the limits
set, and the real-time estimate. No benchmark runs here, and no wall-clock time is asserted."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from activations.sms.rules import DEFAULT_RULES, Earliest, quiet_hours_decision
from activations.sms.zones import resolve_zones
from benchmarks.measure import StepResult
from benchmarks.sms_sync import Result, floor_seconds, midday_zone


@pytest.mark.parametrize("hour", range(24))
def test_recipients_are_placed_where_texts_may_go_at_once_whatever_the_hour(hour: int) -> None:
    now = datetime(2026, 3, 29, hour, 40)  # a European DST day: fixed offsets ignore it
    name = midday_zone(now)
    zones = resolve_zones("+14155550100", name)
    assert zones.source == "customer_timezone", "the zone places the recipient, not the phone"
    local = now.replace(tzinfo=UTC).astimezone(ZoneInfo(name))
    assert local.hour in (12, 13)
    for later in (timedelta(0), timedelta(hours=7)):
        decision = quiet_hours_decision(now + later, zones.zoneinfos(), DEFAULT_RULES.quiet_hours)
        assert isinstance(decision, Earliest), decision
        assert decision.reason is None, "allowed now, not deferred"


def test_the_floor_lets_a_window_of_calls_go_at_once_and_each_later_window_wait() -> None:
    assert floor_seconds(0, (100, 1.0)) == 0.0
    assert floor_seconds(100, (100, 1.0)) == 0.0
    assert floor_seconds(101, (100, 1.0)) == 1.0
    assert floor_seconds(10_000, (100, 1.0)) == 99.0
    assert floor_seconds(10_000, (600, 60.0)) == 960.0


def result(**changes: Any) -> Result:
    base = Result(
        messages=1_000,
        time_scale=10.0,
        zone="Etc/GMT-1",
        sync_seconds=30.0,
        sync_process=StepResult("sync", 31.0, 200.0),
        report={},
        phases=[],
        costs=[],
        baseline_send_seconds=3.0,
        baseline_read_seconds=9.6,
        baseline_stats={},
        limits={"sends": (100, 1.0), "reads": (600, 60.0)},
        held_move_seconds=0.001,
        load=1.0,
    )
    return replace(base, **changes)


def test_the_overhead_is_per_message_and_the_floor_follows_the_time_scale() -> None:
    r = result()
    assert r.baseline_seconds == pytest.approx(12.6)
    assert r.ratio == pytest.approx(30.0 / 12.6)
    assert r.overhead_ms(30.0, 12.6) == pytest.approx(17.4)
    assert [r.floor("sends"), r.floor("reads")] == pytest.approx([0.9, 6.0])
    assert (r.floor("sends", 1.0), r.floor("reads", 1.0)) == (9.0, 60.0)


def test_at_real_time_each_phase_takes_its_own_work_or_its_floor_whichever_is_longer() -> None:
    r = result()
    # Sends: 20 s of work beats the 9 s floor; reads: 9.6 s here, held to 60 s at real time.
    assert r.real_time(20.0, 9.6, rest=1.0) == pytest.approx(20.0 + 60.0 + 1.0)
    assert r.real_time(3.0, 70.0) == pytest.approx(9.0 + 70.0)
