"""A DuckDB SQLAlchemy dialect whose results survive their connection: `duckdb+buffered://`.

Great Expectations 1.24 runs each metric query inside `with engine.connect()` and reads the rows
after the block has closed the connection (SqlAlchemyExecutionEngine.execute_query). Closing a
SQLAlchemy 2 connection rolls its transaction back, and duckdb_engine's DBAPI cursor *is* the
DuckDB connection, so the rollback discards the pending result: every fetch returns no rows and GX
reports each expectation as failed with an empty result (duckdb_engine#734, #1087; GX#11579).
That is a wrong answer, not an error, which is why it is dangerous.

This dialect reads every row-returning result in full when the statement executes, the way
SQLAlchemy's own MSSQL and Oracle dialects buffer results that must outlive the conversation.
Metric queries are aggregates (a handful of rows), so buffering costs nothing, and everything is
still computed inside DuckDB. It is registered under its own URL scheme, so only engines built for
validation use it. `tests/integration/test_gx_duckdb.py` fails if an upgrade of GX, SQLAlchemy or
duckdb_engine breaks it, and flags when the upstream bug is gone.
"""

from __future__ import annotations

import duckdb_engine
from sqlalchemy.dialects import registry
from sqlalchemy.engine.cursor import FullyBufferedCursorFetchStrategy

DRIVER_NAME = "duckdb+buffered"


class _BufferedExecutionContext(duckdb_engine.Dialect.execution_ctx_cls):  # type: ignore[misc,valid-type]
    def post_exec(self) -> None:
        super().post_exec()
        description = self.cursor.description
        if not self.executemany and description is not None:
            self.cursor_fetch_strategy = FullyBufferedCursorFetchStrategy(self.cursor, description)


class BufferedDuckDBDialect(duckdb_engine.Dialect):
    """duckdb_engine with every result fully read at execute time (dialect name stays duckdb)."""

    driver = "buffered"
    execution_ctx_cls = _BufferedExecutionContext
    # SQLAlchemy asks every dialect subclass to say so itself; duckdb_engine says False.
    supports_statement_cache = False


def register() -> None:
    """Make `duckdb+buffered:///path.duckdb` URLs resolvable (idempotent)."""
    registry.register("duckdb.buffered", __name__, BufferedDuckDBDialect.__name__)
