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
from orchestration.dbt import DBT_ASSETS_NAME, cohortflow_dbt_assets, dbt_project
from orchestration.definitions import defs
from orchestration.raw import PHONE_E164_KEY, raw_asset_key
from orchestration.schedules import daily_refresh

AS_OF = "2026-06-30T12:00:00Z"
_DUCKDB_TYPES = {
    "text": "varchar",
    "timestamp": "timestamp",
    "decimal": "decimal(18,2)",
    "integer": "bigint",
}


def _manifest() -> dict:
    return json.loads(dbt_project().manifest_path.read_text(encoding="utf-8"))


def _models(manifest: dict) -> list[dict]:
    return [node for node in manifest["nodes"].values() if node["resource_type"] == "model"]


def _write_raw_store(path: Path) -> None:
    """A tiny dirty store: duplicates, a shared email, local phones, a recent abandoned cart."""
    connection = duckdb.connect(str(path))
    try:
        connection.execute("create schema raw")
        for table in RAW_TABLES:
            columns = ", ".join(f"{c.name} {_DUCKDB_TYPES[c.type]}" for c in table.columns)
            connection.execute(f"create table raw.{table.name} ({columns})")
        connection.execute(
            """insert into raw.customers values
            ('c1', ' Jane.Doe@Example.com ', '(415) 555-0134', 'Jane', 'Doe', '2024-01-01',
             'US', 'America/Los_Angeles'),
            ('c1', ' Jane.Doe@Example.com ', '(415) 555-0134', 'Jane', 'Doe', '2024-01-01',
             'US', 'America/Los_Angeles'),
            ('c2', 'bob@x.co', '020 7946 0958', 'Bob', 'B', '2024-02-01', 'gb', null),
            ('c3', 'test@example.com', null, 'T', '1', '2024-01-01', 'US', null),
            ('c8', 'test@example.com', 'n/a', 'T', '6', '2024-01-01', 'US', null),
            (null, 'x@y.com', null, null, null, null, null, null)"""
        )
        connection.execute(
            """insert into raw.orders values
            ('o1', 'c1', null, null, '2026-06-01', 600, 'USD', 'placed'),
            ('o2', null, 'BOB@x.co', null, '2026-01-01', 20, 'USD', 'placed'),
            ('o3', null, 'guest@z.com', '+1 415-555-0199', '2026-06-29', 30, 'USD', 'placed'),
            ('o4', 'c2', null, null, '2026-06-10', 30, 'USD', 'weird')"""
        )
        connection.execute(
            "insert into raw.order_items values ('o1', 1, 'p1', 2, 300), ('o3', 1, 'p2', 1, 30)"
        )
        connection.execute(
            "insert into raw.products values ('p1', 'Shoe', 'Shoes', 300, null), "
            "('p2', 'Coffee', 'Coffee', 30, 30)"
        )
        connection.execute(
            """insert into raw.events values
            ('e1', 'a1', null, null, 'page_view', null, '2026-06-01'),
            ('e2', 'a1', 'c1', null, 'identify', null, '2026-06-01'),
            ('e3', 'a2', null, 'jane.doe@example.com', 'add_to_cart', 'p1', '2026-06-29 20:00:00'),
            ('e4', 'a9', null, null, 'product_view', 'p1', '2026-06-29 20:00:00')"""
        )
        connection.execute(
            "insert into raw.message_events values "
            "('m1', 'email', 'bob@x.co', null, 'sent', 'c', '2026-06-01')"
        )
        connection.execute(
            "insert into raw.consents values "
            "('sms', null, '+1 (415) 555 0134', 'subscribed', '2026-01-01', 'checkout')"
        )
    finally:
        connection.close()


def test_definitions_load_with_no_warehouse_configured() -> None:
    dg.Definitions.validate_loadable(defs)
    assert defs.resolve_job_def("refresh").tags["dagster/max_retries"] == "2"


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
    assert request.run_config["ops"][DBT_ASSETS_NAME]["config"]["as_of"] == tick.isoformat()


@pytest.mark.integration
def test_refresh_job_builds_segments_on_duckdb(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    warehouse = tmp_path / "warehouse.duckdb"
    _write_raw_store(warehouse)
    monkeypatch.setenv("COHORTFLOW_WAREHOUSE", str(warehouse))
    # dagster-dbt writes each run's artifacts under DBT_TARGET_PATH: keep them out of the repo.
    monkeypatch.setenv("DBT_TARGET_PATH", str(tmp_path / "dbt_target"))

    result = defs.resolve_job_def("refresh").execute_in_process(
        run_config={"ops": {DBT_ASSETS_NAME: {"config": {"as_of": AS_OF}}}},
        instance=dg.DagsterInstance.ephemeral(),
    )

    assert result.success
    materialized = {event.asset_key for event in result.get_asset_materialization_events()}
    assert PHONE_E164_KEY in materialized
    assert dg.AssetKey(["analytics", "segment_membership"]) in materialized
    phones = result.asset_materializations_for_node("cohortflow_state__phone_e164")[0].metadata
    assert phones["phones_added"].value > 0
    assert phones["phones_invalid"].value >= 1  # 'n/a'
    checks = result.get_asset_check_evaluations()
    assert len(checks) == len(defs.resolve_asset_graph().asset_check_keys)
    assert [c.asset_check_key for c in checks if not c.passed] == []

    connection = duckdb.connect(str(warehouse), read_only=True)
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
