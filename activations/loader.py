"""Snapshot loads of a folder of `<table>.parquet` files into the warehouse's raw schema.

Every file is checked against the raw data contract before anything is written, then all tables
are replaced inside one transaction: a load either lands completely or leaves the warehouse as it
was. Columns outside the contract (a loader's `_synced_at`) are ignored and reported.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from activations.bulk import insert_arrow
from activations.errors import RawDataError
from activations.queries import statement
from activations.raw_contract import (
    DECIMAL_PRECISION,
    DECIMAL_SCALE,
    RAW_TABLES,
    LogicalType,
    RawTable,
)
from activations.warehouse import Warehouse, connect, first_line, quote_identifier

_ARROW_TYPES: dict[LogicalType, pa.DataType] = {
    "text": pa.string(),
    "timestamp": pa.timestamp("us"),
    "decimal": pa.decimal128(DECIMAL_PRECISION, DECIMAL_SCALE),
    "integer": pa.int64(),
}
_SQL_TYPES: dict[LogicalType, str] = {
    "text": "varchar",
    "timestamp": "timestamp",
    "decimal": f"decimal({DECIMAL_PRECISION}, {DECIMAL_SCALE})",
    "integer": "bigint",
}
_TYPE_WORDS: dict[LogicalType, str] = {
    "text": "text",
    "timestamp": "a timestamp",
    "decimal": "a decimal number",
    "integer": "an integer",
}


@dataclass(frozen=True)
class TableLoad:
    """What was loaded into one raw table."""

    table: str
    rows: int
    ignored_columns: tuple[str, ...] = ()


@dataclass(frozen=True)
class LoadReport:
    """The outcome of one snapshot load."""

    raw_schema: str
    tables: tuple[TableLoad, ...] = field(default_factory=tuple)

    @property
    def rows(self) -> int:
        return sum(table.rows for table in self.tables)


def load_raw_folder(
    warehouse: Warehouse,
    raw_dir: Path,
    *,
    raw_schema: str = "raw",
    progress: Callable[[str], None] | None = None,
) -> LoadReport:
    """Replace every raw table with the matching `<table>.parquet` from `raw_dir`, atomically.

    Raises:
        RawDataError: a file is missing or unreadable, or a column is missing or of the wrong type.
        WarehouseError: the warehouse cannot be reached, or a DuckDB file's folder does not exist.
    """
    files = {table.name: _checked_file(raw_dir, table) for table in RAW_TABLES}
    loads: list[TableLoad] = []
    # The one writer that starts a warehouse: a DuckDB file appears with its first raw data.
    with connect(warehouse, create=True) as connection:
        connection.execute(statement(connection, "create_schema", schema=raw_schema))
        for table in RAW_TABLES:
            if progress:
                progress(table.name)
            loads.append(_replace_table(connection, raw_schema, table, files[table.name]))
    return LoadReport(raw_schema=raw_schema, tables=tuple(loads))


def _checked_file(raw_dir: Path, table: RawTable) -> tuple[Path, tuple[str, ...]]:
    """The table's parquet file and its extra columns, after checking it against the contract."""
    if not raw_dir.is_dir():
        raise RawDataError(f"raw folder {raw_dir} does not exist or is not a folder.")
    path = raw_dir / f"{table.name}.parquet"
    if not path.is_file():
        raise RawDataError(
            f"{path} is missing: a raw folder needs one <table>.parquet per contract table "
            f"({', '.join(t.name for t in RAW_TABLES)})."
        )
    try:
        schema = pq.read_schema(path)
    except (OSError, pa.ArrowException) as error:
        raise RawDataError(f"{path} is not a readable Parquet file: {first_line(error)}") from None
    for column in table.columns:
        if column.name not in schema.names:
            raise RawDataError(f"{path.name}: column '{column.name}' is missing.")
        found = schema.field(column.name).type
        if not _compatible(found, column.type):
            raise RawDataError(
                f"{path.name}: column '{column.name}' is {found}, expected "
                f"{_TYPE_WORDS[column.type]}."
            )
    extras = tuple(name for name in schema.names if name not in table.column_names)
    return path, extras


def _compatible(found: pa.DataType, expected: LogicalType) -> bool:
    if pa.types.is_null(found):
        return True
    if pa.types.is_dictionary(found):
        found = found.value_type
    if expected == "text":
        return bool(pa.types.is_string(found) or pa.types.is_large_string(found))
    if expected == "timestamp":
        return bool(pa.types.is_timestamp(found) or pa.types.is_date(found))
    if expected == "decimal":
        return bool(
            pa.types.is_decimal(found) or pa.types.is_floating(found) or pa.types.is_integer(found)
        )
    return bool(pa.types.is_integer(found))


def _replace_table(
    connection: Connection, raw_schema: str, table: RawTable, checked: tuple[Path, tuple[str, ...]]
) -> TableLoad:
    path, extras = checked
    target = (
        f"{quote_identifier(connection, raw_schema)}.{quote_identifier(connection, table.name)}"
    )
    columns = ", ".join(
        f"{quote_identifier(connection, c.name)} {_SQL_TYPES[c.type]}" for c in table.columns
    )
    connection.exec_driver_sql(f"create table if not exists {target} ({columns})")
    _check_existing_columns(connection, raw_schema, table)
    connection.exec_driver_sql(f"delete from {target}")
    try:
        if connection.dialect.name == "duckdb":
            rows = _insert_parquet_duckdb(connection, target, table, path)
        else:
            rows = _insert_parquet_batches(connection, raw_schema, table, path)
    except (sa.exc.DBAPIError, pa.ArrowException) as error:
        raise RawDataError(f"{path.name}: could not load: {first_line(error)}") from None
    return TableLoad(table=table.name, rows=rows, ignored_columns=extras)


def _check_existing_columns(connection: Connection, raw_schema: str, table: RawTable) -> None:
    """A raw table created by another tool must at least have the contract's columns."""
    found = {
        str(name).lower()
        for (name,) in connection.execute(
            sa.text(
                "select column_name from information_schema.columns "
                "where table_schema = :schema and table_name = :table"
            ),
            {"schema": raw_schema, "table": table.name},
        )
    }
    missing = [name for name in table.column_names if name not in found]
    if missing:
        raise RawDataError(
            f"{raw_schema}.{table.name} already exists without column(s) {', '.join(missing)}; "
            "drop it or let its loader add them."
        )


def _insert_parquet_duckdb(connection: Connection, target: str, table: RawTable, path: Path) -> int:
    # DuckDB reads the file itself: no Python round trip, and casts happen in the engine.
    connection.exec_driver_sql("set TimeZone = 'UTC'")
    selected = ", ".join(
        f"cast({quote_identifier(connection, c.name)} as {_SQL_TYPES[c.type]})"
        for c in table.columns
    )
    names = ", ".join(quote_identifier(connection, c.name) for c in table.columns)
    connection.execute(
        sa.text(f"insert into {target} ({names}) select {selected} from read_parquet(:path)"),
        {"path": str(path)},
    )
    count: int = connection.exec_driver_sql(f"select count(*) from {target}").scalar_one()
    return count


def arrow_schema(table: RawTable) -> pa.Schema:
    """The Arrow schema of a contract table, as `cohortflow generate` writes it."""
    return pa.schema([(c.name, _ARROW_TYPES[c.type]) for c in table.columns])


def _insert_parquet_batches(
    connection: Connection, raw_schema: str, table: RawTable, path: Path
) -> int:
    target_schema = arrow_schema(table)
    rows = 0
    for batch in pq.ParquetFile(path).iter_batches(
        batch_size=200_000, columns=list(table.column_names)
    ):
        data = pa.Table.from_batches([batch])
        data = pa.table(
            [_cast_column(data.column(f.name), f.type) for f in target_schema], schema=target_schema
        )
        insert_arrow(connection, raw_schema, table.name, data)
        rows += data.num_rows
    return rows


def _cast_column(column: pa.ChunkedArray, target: pa.DataType) -> pa.ChunkedArray:
    if pa.types.is_timestamp(column.type) and column.type.tz is not None:
        column = column.cast(pa.timestamp(column.type.unit, tz="UTC")).cast(
            pa.timestamp(column.type.unit)
        )
    return column.cast(target)
