"""The `deferred_texts` sensor asks for one run once the earliest deferred text is due, reading
only what activation/sms last recorded, and never twice for the same texts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import dagster as dg

from orchestration.activation import NEXT_DEFERRED
from orchestration.definitions import defs
from orchestration.sensors import SMS_KEY, deferred_texts


def materialize(instance: dg.DagsterInstance, due: datetime | None) -> None:
    """activation/sms recorded, with its earliest deferred text's instant when there is one."""
    metadata = {"outbox/deferred": dg.MetadataValue.int(0 if due is None else 1)}
    if due is not None:
        metadata[NEXT_DEFERRED] = dg.MetadataValue.timestamp(due)
    instance.report_runless_asset_event(dg.AssetMaterialization(SMS_KEY, metadata=metadata))


def tick(instance: dg.DagsterInstance) -> dg.SensorResult | dg.RunRequest | dg.SkipReason:
    return deferred_texts(dg.build_sensor_context(instance=instance))


def test_nothing_is_asked_for_before_sms_ran_or_while_nothing_is_deferred() -> None:
    with dg.instance_for_test() as instance:
        assert isinstance(tick(instance), dg.SkipReason)
        materialize(instance, None)
        skipped = tick(instance)
        assert isinstance(skipped, dg.SkipReason) and "no text is deferred" in str(
            skipped.skip_message
        )


def test_a_deferred_text_is_waited_for_then_sent_by_one_run() -> None:
    later = datetime.now(UTC) + timedelta(hours=3)
    with dg.instance_for_test() as instance:
        materialize(instance, later)
        waiting = tick(instance)
        assert isinstance(waiting, dg.SkipReason)
        assert f"{later:%Y-%m-%d %H:%M} UTC" in str(waiting.skip_message)

        opened = datetime.now(UTC) - timedelta(minutes=1)
        materialize(instance, opened)
        first, again = tick(instance), tick(instance)
        assert isinstance(first, dg.RunRequest) and isinstance(again, dg.RunRequest)
        assert first.run_key == again.run_key, "a tick evaluated twice asks for the same run"

        materialize(instance, opened + timedelta(hours=1))  # the run deferred others
        assert isinstance(tick(instance), dg.SkipReason)


def test_the_run_it_asks_for_syncs_the_sms_destination_alone() -> None:
    sensor = defs.resolve_sensor_def("deferred_texts")
    job = defs.resolve_job_def(sensor.job_name)
    assert set(job.asset_layer.selected_asset_keys) == {SMS_KEY}
    assert sensor.default_status == dg.DefaultSensorStatus.STOPPED
