"""The `deferred_texts` sensor: texts held back by quiet hours go when their window opens, not at
the next scheduled run.

A text deferred at 23:00 to 08:00 the recipient's time would otherwise wait for tomorrow's
`activate`, which may come hours after the window opened (a win-back text is worth most on
time, and expires after its send window). The sensor reads only Dagster's own record, the last
`activation/sms` materialization's `outbox/next_deferred_at`, never the warehouse: a sensor
opening a DuckDB file could take the lock a running job needs. When that instant has passed it
asks for one `send_due_texts` run, which materializes `activation/sms` alone (plan what is new,
send what is due, read statuses) in the warehouse pool like every other sync.

The run key is the deferred instant: a daemon restarted mid-tick, or a tick evaluated twice,
never starts a second run for the same texts, and a run that fails is not repeated every tick
(the next `activate` or the next deferral's instant tries again).
"""

from __future__ import annotations

from datetime import UTC, datetime

import dagster as dg

from orchestration.activation import NEXT_DEFERRED
from orchestration.jobs import ACTIVATE_TAGS

SMS_KEY = dg.AssetKey(["activation", "sms"])
CHECK_INTERVAL_SECONDS = 120

send_due_texts_job = dg.define_asset_job(
    name="send_due_texts",
    selection=dg.AssetSelection.assets(SMS_KEY),
    tags=ACTIVATE_TAGS,
    description=(
        "Sync the sms destination alone: texts of the last recorded run planned, texts whose "
        "window opened sent, statuses read (docs/destinations/sms.md). Started by the "
        "`deferred_texts` sensor."
    ),
)


@dg.sensor(
    job=send_due_texts_job,
    minimum_interval_seconds=CHECK_INTERVAL_SECONDS,
    default_status=dg.DefaultSensorStatus.STOPPED,
    description=(
        "Send deferred texts when their window opens: one send_due_texts run once the earliest "
        "deferred text recorded by activation/sms is due."
    ),
)
def deferred_texts(context: dg.SensorEvaluationContext) -> dg.RunRequest | dg.SkipReason:
    """One run for the earliest deferred text once it is due, else why not."""
    event = context.instance.get_latest_materialization_event(SMS_KEY)
    if event is None or event.asset_materialization is None:
        return dg.SkipReason("activation/sms has not been materialized yet: nothing is deferred")
    entry = event.asset_materialization.metadata.get(NEXT_DEFERRED)
    if not isinstance(entry, dg.TimestampMetadataValue):
        return dg.SkipReason("no text is deferred")
    due = datetime.fromtimestamp(entry.value, UTC)
    if due > datetime.now(UTC):
        return dg.SkipReason(f"the earliest deferred text may go at {due:%Y-%m-%d %H:%M} UTC")
    return dg.RunRequest(run_key=f"deferred-texts-{due.isoformat()}")


def defs() -> dg.Definitions:
    """The sensor and the job it starts."""
    return dg.Definitions(jobs=[send_due_texts_job], sensors=[deferred_texts])
