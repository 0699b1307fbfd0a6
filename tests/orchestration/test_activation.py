"""The activation asset syncs Klaviyo-routed segments into the sandbox and reports it."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import dagster as dg
import pytest

from activations.sandbox import SandboxServer
from activations.sandbox.klaviyo import KlaviyoSandbox
from orchestration.activation import NOT_CONFIGURED
from orchestration.changes import MEMBERSHIP_CHANGES_KEY
from orchestration.definitions import defs
from orchestration.jobs import refresh_run_config

AS_OF = "2026-06-30T12:00:00Z"
API_KEY = "pk_dagster_test_1"
KLAVIYO_KEY = dg.AssetKey(["activation", "klaviyo"])


@pytest.fixture
def klaviyo(monkeypatch: pytest.MonkeyPatch) -> Iterator[KlaviyoSandbox]:
    sandbox = KlaviyoSandbox(api_key=API_KEY, time_scale=1000.0)
    with SandboxServer(sandbox.app) as server:
        monkeypatch.setenv("KLAVIYO_API_KEY", API_KEY)
        monkeypatch.setenv("KLAVIYO_BASE_URL", server.url)
        monkeypatch.setenv("COHORTFLOW_TIME_SCALE", "1000")
        yield sandbox


def test_activate_syncs_the_segments_and_reports_what_landed(
    raw_warehouse: Path, klaviyo: KlaviyoSandbox
) -> None:
    result = defs.resolve_job_def("activate").execute_in_process(
        run_config=refresh_run_config(AS_OF), instance=dg.DagsterInstance.ephemeral()
    )

    assert result.success
    (materialization,) = [
        m for m in result.get_asset_materialization_events() if m.asset_key == KLAVIYO_KEY
    ]
    metadata = materialization.materialization.metadata
    # The store's one recent abandoned cart belongs to Jane (via her email on the event).
    assert klaviyo.state.list_members("Cart abandoners") == {"jane.doe@example.com"}
    assert metadata["cart_abandoners/added"].value == 1
    lists = set(klaviyo.state.lists.values())
    assert metadata["added"].value == sum(len(klaviyo.state.list_members(n)) for n in lists)
    assert metadata["api_calls"].value > 0
    assert metadata["permanent_failures"].value == 0
    assert API_KEY not in str(metadata)


def test_a_destination_without_credentials_is_skipped_visibly(raw_warehouse: Path) -> None:
    instance = dg.DagsterInstance.ephemeral()
    result = defs.resolve_job_def("activate").execute_in_process(
        run_config=refresh_run_config(AS_OF), instance=instance
    )

    assert result.success
    materialized = {event.asset_key for event in result.get_asset_materialization_events()}
    assert MEMBERSHIP_CHANGES_KEY in materialized
    assert KLAVIYO_KEY not in materialized, "nothing was synced, so nothing may look fresh"
    (observation,) = [
        event.asset_observation_data.asset_observation
        for event in result.get_asset_observation_events()
        if event.asset_key == KLAVIYO_KEY
    ]
    assert observation.metadata["status"].value == NOT_CONFIGURED
    assert (
        observation.metadata["reason"].value == "KLAVIYO_API_KEY not set in the run's environment"
    )
    warnings = [
        entry.user_message
        for entry in instance.all_logs(result.run_id)
        if entry.level == logging.WARNING
    ]
    assert any("klaviyo not configured" in message for message in warnings)
