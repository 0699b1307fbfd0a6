"""Snapshot loads on both warehouses: all lands, or nothing changes and one line says why."""

from __future__ import annotations

import shutil
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import sqlalchemy as sa

from activations.errors import RawDataError, WarehouseError
from activations.loader import load_raw_folder
from activations.warehouse import Warehouse, connect
from tests.support.raw_files import MINIMAL_ROWS, T0, contract_table, write_raw_folder

pytestmark = pytest.mark.integration


def _counts(warehouse: Warehouse) -> dict[str, int]:
    with connect(warehouse) as connection:
        return {
            name: connection.execute(sa.text(f"select count(*) from raw.{name}")).scalar_one()
            for name in MINIMAL_ROWS
        }


def test_every_contract_table_is_loaded_with_its_rows(
    warehouse_location: str, tmp_path: Path
) -> None:
    warehouse = Warehouse.from_location(warehouse_location)
    report = load_raw_folder(warehouse, write_raw_folder(tmp_path / "raw"))
    expected = {name: len(rows) for name, rows in MINIMAL_ROWS.items()}
    assert {t.table: t.rows for t in report.tables} == expected
    assert _counts(warehouse) == expected
    with connect(warehouse) as connection:
        total = connection.execute(sa.text("select total from raw.orders")).scalar_one()
        email = connection.execute(
            sa.text("select email from raw.customers where customer_id = 'c1'")
        ).scalar_one()
    assert Decimal(total) == Decimal("120.50")
    assert email == " Ann@Example.com "  # raw stays raw: staging cleans


def test_a_second_load_replaces_each_table_instead_of_appending(
    warehouse_location: str, tmp_path: Path
) -> None:
    warehouse = Warehouse.from_location(warehouse_location)
    load_raw_folder(warehouse, write_raw_folder(tmp_path / "first"))
    one_customer = {"customers": MINIMAL_ROWS["customers"][:1]}
    load_raw_folder(warehouse, write_raw_folder(tmp_path / "second", one_customer))
    assert _counts(warehouse)["customers"] == 1


def test_columns_outside_the_contract_are_ignored_and_reported(
    warehouse_location: str, tmp_path: Path
) -> None:
    folder = write_raw_folder(tmp_path / "raw")
    table = pq.read_table(folder / "orders.parquet")
    table = table.append_column("_fivetran_synced", pa.array([T0], pa.timestamp("us")))
    pq.write_table(table, folder / "orders.parquet")
    report = load_raw_folder(Warehouse.from_location(warehouse_location), folder)
    orders = next(t for t in report.tables if t.table == "orders")
    assert orders.ignored_columns == ("_fivetran_synced",)


def test_timezone_aware_timestamps_are_stored_as_utc(
    warehouse_location: str, tmp_path: Path
) -> None:
    folder = write_raw_folder(tmp_path / "raw")
    table = pq.read_table(folder / "orders.parquet")
    aware = pa.array([1_780_308_000_000_000], pa.timestamp("us", tz="Europe/Paris"))
    table = table.set_column(table.schema.get_field_index("ordered_at"), "ordered_at", aware)
    pq.write_table(table, folder / "orders.parquet")
    warehouse = Warehouse.from_location(warehouse_location)
    load_raw_folder(warehouse, folder)
    with connect(warehouse) as connection:
        stored = connection.execute(sa.text("select ordered_at from raw.orders")).scalar_one()
    assert stored.replace(tzinfo=None).isoformat() == "2026-06-01T10:00:00"


def _break_missing_file(folder: Path) -> str:
    (folder / "events.parquet").unlink()
    return "events.parquet is missing"


def _break_missing_column(folder: Path) -> str:
    table = pq.read_table(folder / "customers.parquet").drop_columns(["email"])
    pq.write_table(table, folder / "customers.parquet")
    return "customers.parquet: column 'email' is missing"


def _break_wrong_type(folder: Path) -> str:
    table = pq.read_table(folder / "orders.parquet")
    index = table.schema.get_field_index("ordered_at")
    table = table.set_column(index, "ordered_at", pa.array([20260601], pa.int64()))
    pq.write_table(table, folder / "orders.parquet")
    return "orders.parquet: column 'ordered_at' is int64, expected a timestamp"


def _break_unreadable_file(folder: Path) -> str:
    (folder / "products.parquet").write_bytes(b"not parquet at all")
    return "products.parquet is not a readable Parquet file"


def _break_value_mid_load(folder: Path) -> str:
    # Valid types, but a total too large for DECIMAL(18, 2): fails while inserting the second
    # table, after customers were already replaced inside the same transaction.
    rows = [dict(MINIMAL_ROWS["orders"][0], total=1e20)]
    table = contract_table("orders", []).schema
    pq.write_table(
        pa.Table.from_pylist(
            rows, schema=table.set(table.get_field_index("total"), pa.field("total", pa.float64()))
        ),
        folder / "orders.parquet",
    )
    return "orders.parquet: could not load"


@pytest.mark.parametrize(
    "break_folder",
    [
        _break_missing_file,
        _break_missing_column,
        _break_wrong_type,
        _break_unreadable_file,
        _break_value_mid_load,
    ],
)
def test_bad_input_names_the_problem_and_leaves_the_warehouse_as_it_was(
    warehouse_location: str, tmp_path: Path, break_folder
) -> None:
    warehouse = Warehouse.from_location(warehouse_location)
    good = {"customers": MINIMAL_ROWS["customers"][:1]}
    load_raw_folder(warehouse, write_raw_folder(tmp_path / "good", good))
    before = _counts(warehouse)

    bad = write_raw_folder(tmp_path / "bad")
    expected = break_folder(bad)
    with pytest.raises(RawDataError) as caught:
        load_raw_folder(warehouse, bad)

    message = str(caught.value)
    assert expected in message
    assert "\n" not in message
    assert _counts(warehouse) == before


def test_a_missing_folder_is_reported_before_touching_the_warehouse(tmp_path: Path) -> None:
    warehouse = Warehouse.from_location(str(tmp_path / "w.duckdb"))
    with pytest.raises(RawDataError, match="does not exist"):
        load_raw_folder(warehouse, tmp_path / "nope")
    assert not (tmp_path / "w.duckdb").exists()


def test_an_unreachable_warehouse_is_one_line_without_the_password(tmp_path: Path) -> None:
    warehouse = Warehouse.from_location("postgresql://ana:s3cr3t@127.0.0.1:1/shop")
    with pytest.raises(WarehouseError) as caught:
        load_raw_folder(warehouse, write_raw_folder(tmp_path / "raw"))
    message = str(caught.value)
    assert message.startswith(
        "cannot reach the warehouse (PostgreSQL postgresql+psycopg2://ana:***@"
    )
    assert "s3cr3t" not in message
    assert "\n" not in message


def test_cli_prints_one_line_and_no_traceback_on_bad_input(tmp_path: Path) -> None:
    folder = write_raw_folder(tmp_path / "raw")
    _break_missing_column(folder)
    cohortflow = shutil.which("cohortflow") or str(Path(sys.executable).parent / "cohortflow")
    result = subprocess.run(
        [cohortflow, "load", "--raw-dir", str(folder)],
        capture_output=True,
        text=True,
        env={
            "COHORTFLOW_WAREHOUSE": str(tmp_path / "w.duckdb"),
            "PATH": str(Path(sys.executable).parent),
        },
        check=False,
    )
    assert result.returncode == 1
    assert result.stderr.strip() == "error: customers.parquet: column 'email' is missing."
    assert "Traceback" not in result.stderr + result.stdout
