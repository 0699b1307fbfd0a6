"""Fast bulk inserts of Arrow data into a warehouse table, inside the caller's transaction.

Row-by-row INSERTs through SQLAlchemy take minutes for a million rows; each warehouse has a bulk
path instead: DuckDB scans a registered Arrow table, PostgreSQL takes CSV through COPY.
"""

from __future__ import annotations

import io
import itertools
from typing import Any

import pyarrow as pa
import pyarrow.csv as pa_csv
from sqlalchemy.engine import Connection

from activations.warehouse import quote_identifier

_COPY_BATCH_ROWS = 200_000
_names = itertools.count()


def insert_arrow(connection: Connection, schema: str, table: str, data: pa.Table) -> None:
    """Append `data` (columns named as in the target table) to `schema.table`."""
    if data.num_rows == 0:
        return
    target = f"{quote_identifier(connection, schema)}.{quote_identifier(connection, table)}"
    columns = ", ".join(quote_identifier(connection, name) for name in data.column_names)
    if connection.dialect.name == "duckdb":
        _insert_duckdb(connection, target, columns, data)
    else:
        _copy_postgres(connection, target, columns, data)


def _driver(connection: Connection) -> Any:
    """The DB-API connection under SQLAlchemy's, for each driver's bulk path."""
    driver = connection.connection.driver_connection
    if driver is None:
        raise RuntimeError("the warehouse connection is closed")
    return driver


def _insert_duckdb(connection: Connection, target: str, columns: str, data: pa.Table) -> None:
    driver = _driver(connection)
    view = f"cohortflow_bulk_{next(_names)}"
    driver.register(view, data)
    try:
        connection.exec_driver_sql(f"insert into {target} ({columns}) select {columns} from {view}")
    finally:
        driver.unregister(view)


def _copy_postgres(connection: Connection, target: str, columns: str, data: pa.Table) -> None:
    cursor = _driver(connection).cursor()
    # Empty strings are quoted and nulls are bare empties, which is how COPY tells them apart.
    options = pa_csv.WriteOptions(include_header=False, quoting_style="all_valid")
    try:
        for batch in data.to_batches(max_chunksize=_COPY_BATCH_ROWS):
            buffer = io.BytesIO()
            pa_csv.write_csv(pa.Table.from_batches([batch]), buffer, write_options=options)
            buffer.seek(0)
            cursor.copy_expert(f"copy {target} ({columns}) from stdin with (format csv)", buffer)
    finally:
        cursor.close()
