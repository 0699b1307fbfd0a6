"""A tick of the daily schedule asks for a run its job accepts, computing as of the tick."""

from __future__ import annotations

from datetime import UTC, datetime

import dagster as dg
from hypothesis import given, settings
from hypothesis import strategies as st

from activations.instants import parse_instant
from orchestration.definitions import defs
from orchestration.jobs import AS_OF_OPS

ticks = st.datetimes(
    min_value=datetime(2024, 1, 1), max_value=datetime(2035, 12, 31), timezones=st.just(UTC)
).map(lambda moment: moment.replace(hour=6, minute=0, second=0, microsecond=0))


@settings(max_examples=25, deadline=None)
@given(tick=ticks)
def test_a_tick_requests_a_valid_run_of_refresh_pinned_to_the_tick(tick: datetime) -> None:
    schedule = defs.resolve_schedule_def("daily_refresh")
    result = schedule.evaluate_tick(dg.build_schedule_context(scheduled_execution_time=tick))

    assert result.skip_message is None
    (request,) = result.run_requests or []
    job = defs.resolve_job_def(schedule.job_name)
    assert job.name == "refresh"
    resolved = dg.validate_run_config(job, request.run_config)  # raises on invalid config
    for op in AS_OF_OPS:
        as_of = resolved["ops"][op]["config"]["as_of"]
        assert parse_instant(as_of) == tick.replace(tzinfo=None)
    assert request.run_key == tick.isoformat()
