"""Only a load creates a warehouse; everything else is told, in one line, what to run first."""

from __future__ import annotations

from pathlib import Path

import pytest

from activations.errors import WarehouseError
from activations.migrations import available_migrations, migrate
from activations.planner import build_plan
from activations.readiness import ModelsMissing, StateNotCurrent, require_built, require_state
from activations.warehouse import Warehouse, connect


def test_a_missing_duckdb_file_is_named_with_the_command_to_run_and_not_created(
    tmp_path: Path,
) -> None:
    path = tmp_path / "typo.duckdb"
    with pytest.raises(WarehouseError) as caught, connect(Warehouse.from_location(str(path))):
        pass
    message = str(caught.value)
    assert str(path) in message and "`cohortflow load" in message and "\n" not in message
    assert list(tmp_path.iterdir()) == []


def test_a_missing_folder_is_never_created_even_for_a_load(tmp_path: Path) -> None:
    folder = tmp_path / "no" / "such"
    warehouse = Warehouse.from_location(str(folder / "w.duckdb"))
    for create in (False, True):
        with pytest.raises(WarehouseError, match=f"directory {folder} does not exist"):
            with connect(warehouse, create=create):
                pass
    assert list(tmp_path.iterdir()) == []


def test_create_makes_the_file_a_load_starts_with(tmp_path: Path) -> None:
    path = tmp_path / "new.duckdb"
    with connect(Warehouse.from_location(str(path)), create=True) as connection:
        assert connection.exec_driver_sql("select 1").scalar_one() == 1
    assert path.is_file()
    with connect(Warehouse.from_location(str(path))) as connection:
        assert connection.exec_driver_sql("select 2").scalar_one() == 2


@pytest.mark.postgres
def test_a_warehouse_without_models_says_to_run_first(warehouse_location: str) -> None:
    warehouse = Warehouse.from_location(warehouse_location)
    with connect(warehouse, create=True) as connection:
        connection.exec_driver_sql("create schema raw")  # loaded, never run
    with pytest.raises(ModelsMissing) as caught:
        require_built(warehouse)
    message = str(caught.value)
    assert "analytics.segment_membership" in message and "run `cohortflow run` first" in message

    with connect(warehouse) as connection:
        connection.exec_driver_sql("create schema analytics")
        connection.exec_driver_sql("create table analytics.segment_membership (segment varchar)")
    with pytest.raises(ModelsMissing, match=r"\(analytics.contact_consent is missing\)"):
        require_built(warehouse)
    with connect(warehouse) as connection:
        connection.exec_driver_sql("create table analytics.contact_consent (address varchar)")
    require_built(warehouse)


@pytest.mark.postgres
def test_readers_never_migrate_and_name_the_command_that_does(warehouse_location: str) -> None:
    """A plan reads: on a state an older cohortflow wrote it says which command upgrades it,
    and leaves the schema exactly as it found it."""
    warehouse = Warehouse.from_location(warehouse_location)
    with connect(warehouse, create=True) as connection:
        with pytest.raises(StateNotCurrent, match=r"no recorded run yet .* `cohortflow run` first"):
            require_state(connection, "cohortflow_state")
        migrate(connection, "cohortflow_state")
        require_state(connection, "cohortflow_state")
        latest = available_migrations()[-1]
        connection.exec_driver_sql(
            f"delete from cohortflow_state.schema_migrations where version = {latest.version}"
        )
    with connect(warehouse) as connection:
        with pytest.raises(StateNotCurrent) as caught:
            build_plan(connection, state_schema="cohortflow_state", configs={})
        versions = connection.exec_driver_sql(
            "select count(*) from cohortflow_state.schema_migrations"
        ).scalar_one()
    message = str(caught.value)
    assert f"{latest.version:04d}_{latest.name}" in message
    assert "`cohortflow run` or `cohortflow sync`" in message
    assert versions == len(available_migrations()) - 1
