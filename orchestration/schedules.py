"""The daily refresh schedule."""

from __future__ import annotations

import dagster as dg

from orchestration.jobs import refresh_job, refresh_run_config

# `refresh_run_config` (orchestration/jobs.py) pins the dbt build and change detection to the
# tick's scheduled time. Pinning it (rather than when the run is created) keeps a late run
# computing the same day's segments as the tick that asked for it.
__all__ = ["daily_refresh", "defs", "refresh_run_config"]


@dg.schedule(
    job=refresh_job,
    cron_schedule="0 6 * * *",
    execution_timezone="UTC",
    default_status=dg.DefaultScheduleStatus.STOPPED,
    description="Refresh lifecycle stages and segments every day at 06:00 UTC.",
)
def daily_refresh(context: dg.ScheduleEvaluationContext) -> dg.RunRequest:
    """One run per tick, keyed by the tick so a re-evaluated tick never starts a second run."""
    scheduled = context.scheduled_execution_time
    return dg.RunRequest(
        run_key=scheduled.isoformat(),
        run_config=refresh_run_config(scheduled.isoformat()),
    )


def defs() -> dg.Definitions:
    """The schedules."""
    return dg.Definitions(schedules=[daily_refresh])
