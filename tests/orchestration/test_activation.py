"""The activation asset syncs Klaviyo-routed segments into the sandbox and reports it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import dagster as dg
import pytest

from activations.sandbox import SandboxServer
from activations.sandbox.klaviyo import KlaviyoSandbox
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


def test_activation_without_credentials_fails_with_the_reason(raw_warehouse: Path) -> None:
    result = defs.resolve_job_def("activate").execute_in_process(
        run_config=refresh_run_config(AS_OF),
        instance=dg.DagsterInstance.ephemeral(),
        raise_on_error=False,
    )

    assert not result.success
    failure = next(
        event
        for event in result.all_events
        if event.is_step_failure and "klaviyo" in (event.step_key or "")
    )
    assert "KLAVIYO_API_KEY not set" in str(failure.event_specific_data.error)
