"""The daily refresh schedule."""

from __future__ import annotations

import dagster as dg

from orchestration.dbt import DBT_ASSETS_NAME
from orchestration.jobs import refresh_job


def refresh_run_config(scheduled_at: str) -> dict[str, object]:
    """Run config pinning the dbt build's `as_of` to the tick's scheduled time.

    Pinning it (rather than "now" when the step starts) keeps a retried or late run computing the
    same day's segments as the tick that asked for it.
    """
    return {"ops": {DBT_ASSETS_NAME: {"config": {"as_of": scheduled_at}}}}


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
