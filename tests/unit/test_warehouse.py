"""COHORTFLOW_WAREHOUSE parsing: the same location must reach dbt and SQLAlchemy, secrets hidden."""

from __future__ import annotations

from pathlib import Path

import pytest

from activations.errors import WarehouseError
from activations.warehouse import Warehouse, check_identifier


def test_a_plain_path_is_a_duckdb_file_resolved_to_an_absolute_path(tmp_path: Path) -> None:
    warehouse = Warehouse.from_location(str(tmp_path / "w.duckdb"))
    assert warehouse.kind == "duckdb"
    assert warehouse.duckdb_path == tmp_path / "w.duckdb"
    assert warehouse.dbt_env() == {
        "COHORTFLOW_DBT_TARGET": "duckdb",
        "COHORTFLOW_DUCKDB_PATH": str(tmp_path / "w.duckdb"),
    }


def test_default_location_is_warehouse_duckdb_in_the_working_directory(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.chdir(tmp_path)
    assert Warehouse.from_env({}).duckdb_path == tmp_path / "warehouse.duckdb"


def test_postgres_url_feeds_the_dbt_profile_and_never_prints_the_password() -> None:
    warehouse = Warehouse.from_location("postgresql://ana:s3cr3t@db.internal:6543/shop")
    assert warehouse.kind == "postgres"
    env = warehouse.dbt_env()
    assert env["COHORTFLOW_PG_HOST"] == "db.internal"
    assert env["COHORTFLOW_PG_PORT"] == "6543"
    assert env["COHORTFLOW_PG_USER"] == "ana"
    assert env["COHORTFLOW_PG_PASSWORD"] == "s3cr3t"
    assert env["COHORTFLOW_PG_DATABASE"] == "shop"
    assert "s3cr3t" not in warehouse.describe()
    assert "db.internal:6543/shop" in warehouse.describe()


def test_duckdb_url_form_is_accepted(tmp_path: Path) -> None:
    warehouse = Warehouse.from_location(f"duckdb:///{tmp_path}/x.duckdb")
    assert warehouse.duckdb_path == tmp_path / "x.duckdb"


@pytest.mark.parametrize("location", ["snowflake://acct/db", "mysql://u@h/db", "   "])
def test_unsupported_or_empty_locations_fail_with_a_clear_message(location: str) -> None:
    with pytest.raises(WarehouseError, match="COHORTFLOW_WAREHOUSE"):
        Warehouse.from_location(location)


@pytest.mark.parametrize("name", ["raw", "cohortflow_state", "_x1"])
def test_plain_lowercase_identifiers_are_accepted(name: str) -> None:
    assert check_identifier(name) == name


@pytest.mark.parametrize("name", ["", "Raw", "raw; drop table x", "1raw", 'ra"w'])
def test_identifiers_that_could_inject_sql_are_refused(name: str) -> None:
    with pytest.raises(WarehouseError):
        check_identifier(name)
