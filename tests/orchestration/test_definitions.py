"""The Dagster definitions load, cover every dbt model and test, and build a real warehouse."""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from activations.raw_contract import RAW_TABLES
from activations.transform import build_vars
from orchestration.changes import MEMBERSHIP_CHANGES_KEY, SEGMENT_MEMBERSHIP_KEY
from orchestration.dbt import DBT_ASSETS_NAME, cohortflow_dbt_assets, dbt_project
from orchestration.definitions import defs
from orchestration.jobs import AS_OF_OPS, refresh_run_config
from orchestration.raw import PHONE_E164_KEY, raw_asset_key
from orchestration.schedules import daily_refresh

AS_OF = "2026-06-30T12:00:00Z"


def _manifest() -> dict:
    return json.loads(dbt_project().manifest_path.read_text(encoding="utf-8"))


def _models(manifest: dict) -> list[dict]:
    return [node for node in manifest["nodes"].values() if node["resource_type"] == "model"]


def test_definitions_load_with_no_warehouse_configured() -> None:
    dg.Definitions.validate_loadable(defs)
    assert defs.resolve_job_def("refresh").tags["dagster/max_retries"] == "2"


def test_refresh_job_ends_with_change_detection_after_segment_membership() -> None:
    graph = defs.resolve_asset_graph()
    assert graph.get(MEMBERSHIP_CHANGES_KEY).group_name == "state"
    assert graph.get(MEMBERSHIP_CHANGES_KEY).parent_keys == {SEGMENT_MEMBERSHIP_KEY}
    assert SEGMENT_MEMBERSHIP_KEY == dg.AssetKey(["analytics", "segment_membership"])
    job_keys = defs.resolve_job_def("refresh").asset_layer.selected_asset_keys
    assert {PHONE_E164_KEY, SEGMENT_MEMBERSHIP_KEY, MEMBERSHIP_CHANGES_KEY} <= set(job_keys)


def test_every_dbt_model_is_an_asset_in_its_folder_group() -> None:
    graph = defs.resolve_asset_graph()
    models = _models(_manifest())
    for model in models:
        key = dg.AssetKey([model["config"]["schema"], model["name"]])
        assert graph.has(key), f"dbt model {model['name']} has no asset"
        assert graph.get(key).group_name == model["fqn"][1]
    names = {model["name"] for model in models}
    assert {"person_lifecycle", "segment_membership", "dim_person", "person_rfm"} <= names
    seg_files = {path.stem for path in (dbt_project().project_dir / "models").rglob("seg_*.sql")}
    assert seg_files and seg_files <= names
    assert graph.has(dg.AssetKey(["analytics", "segment_membership"]))


def test_staging_depends_on_the_phone_lookup_and_raw_tables() -> None:
    graph = defs.resolve_asset_graph()
    parents = graph.get(dg.AssetKey(["staging", "stg_customers__checked"])).parent_keys
    assert PHONE_E164_KEY in parents
    assert raw_asset_key("customers") in parents
    assert graph.get(PHONE_E164_KEY).is_materializable
    for table in RAW_TABLES:
        assert not graph.get(raw_asset_key(table.name)).is_materializable


def test_every_dbt_data_test_is_an_asset_check() -> None:
    tests = [n for n in _manifest()["nodes"].values() if n["resource_type"] == "test"]
    check_names = {key.name for key in defs.resolve_asset_graph().asset_check_keys}
    assert tests
    assert {test["name"] for test in tests} <= check_names
    assert dg.AssetCheckKey(
        dg.AssetKey(["analytics", "dim_person"]), "unique_dim_person_person_id"
    ) in set(cohortflow_dbt_assets.check_keys)


def test_build_vars_carry_settings_and_as_of() -> None:
    variables = build_vars(datetime(2026, 6, 30, 12), {"raw_schema": "shop"})
    assert variables == {"raw_schema": "shop", "as_of": "2026-06-30 12:00:00"}


def test_daily_schedule_pins_as_of_to_the_tick() -> None:
    tick = datetime(2026, 7, 1, 6, 0, tzinfo=UTC)
    context = dg.build_schedule_context(scheduled_execution_time=tick)
    request = daily_refresh(context)
    assert isinstance(request, dg.RunRequest)
    assert request.run_config == refresh_run_config(tick.isoformat())
    assert DBT_ASSETS_NAME in AS_OF_OPS and len(AS_OF_OPS) == 2
    for op in AS_OF_OPS:
        assert request.run_config["ops"][op]["config"]["as_of"] == tick.isoformat()


@pytest.mark.integration
def test_refresh_job_builds_segments_on_duckdb(tmp_path: Path, raw_warehouse: Path) -> None:
    result = defs.resolve_job_def("refresh").execute_in_process(
        run_config=refresh_run_config(AS_OF),
        instance=dg.DagsterInstance.ephemeral(),
    )

    assert result.success
    materialized = {event.asset_key for event in result.get_asset_materialization_events()}
    assert PHONE_E164_KEY in materialized
    assert dg.AssetKey(["analytics", "segment_membership"]) in materialized
    assert MEMBERSHIP_CHANGES_KEY in materialized
    phones = result.asset_materializations_for_node("cohortflow_state__phone_e164")[0].metadata
    assert phones["phones_added"].value > 0
    assert phones["phones_invalid"].value >= 1  # 'n/a'
    checks = result.get_asset_check_evaluations()
    assert len(checks) == len(defs.resolve_asset_graph().asset_check_keys)
    assert [c.asset_check_key for c in checks if not c.passed] == []

    connection = duckdb.connect(str(raw_warehouse), read_only=True)
    try:
        members = connection.execute("select count(*) from analytics.segment_membership").fetchone()
        people = connection.execute("select count(*) from analytics.dim_person").fetchone()
        stages = connection.execute("select count(*) from analytics.person_lifecycle").fetchone()
    finally:
        connection.close()
    assert members is not None and members[0] > 0
    assert people is not None and stages is not None
    assert people[0] > 0 and stages[0] == people[0]
    # The process environment is restored after dbt starts: nothing leaks into later runs.
    assert "COHORTFLOW_DUCKDB_PATH" not in os.environ
    assert any((tmp_path / "dbt_target").iterdir())
