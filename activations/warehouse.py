"""Where the warehouse is and how to reach it: COHORTFLOW_WAREHOUSE parsed once into a `Warehouse`.

The same value drives the SQLAlchemy engine used by the Python side and the environment the dbt
profile reads (dbt_project/profiles.yml), so dbt and cohortflow can never point at different
warehouses.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import sqlalchemy as sa
from sqlalchemy.engine import URL, Connection, Engine, make_url

from activations.errors import WarehouseError

DEFAULT_LOCATION = "./warehouse.duckdb"
ENV_VAR = "COHORTFLOW_WAREHOUSE"

WarehouseKind = Literal["duckdb", "postgres"]


@dataclass(frozen=True)
class Warehouse:
    """A parsed warehouse location: a DuckDB file or a PostgreSQL database."""

    kind: WarehouseKind
    url: URL

    @classmethod
    def from_location(cls, location: str) -> Warehouse:
        """Parse a DuckDB file path or a SQLAlchemy URL (`duckdb:///...`, `postgresql://...`).

        Raises:
            WarehouseError: for a URL of a warehouse cohortflow does not support.
        """
        location = location.strip()
        if not location:
            raise WarehouseError(
                f"{ENV_VAR} is empty: give a DuckDB file path or a SQLAlchemy URL."
            )
        if "://" not in location:
            return cls.duckdb(Path(location))
        try:
            url = make_url(location)
        except sa.exc.ArgumentError as error:
            raise WarehouseError(f"{ENV_VAR} is not a valid SQLAlchemy URL: {error}") from None
        backend = url.get_backend_name()
        if backend == "duckdb":
            return cls.duckdb(Path(url.database or DEFAULT_LOCATION))
        if backend in {"postgresql", "postgres"}:
            return cls("postgres", url.set(drivername="postgresql+psycopg2"))
        raise WarehouseError(
            f"{ENV_VAR} names a '{backend}' warehouse; cohortflow supports DuckDB (a file "
            "path) and PostgreSQL (postgresql://user@host:port/database)."
        )

    @classmethod
    def duckdb(cls, path: Path) -> Warehouse:
        return cls("duckdb", URL.create("duckdb", database=str(path.expanduser().resolve())))

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Warehouse:
        """The warehouse named by COHORTFLOW_WAREHOUSE, default ./warehouse.duckdb."""
        environ = os.environ if environ is None else environ
        return cls.from_location(environ.get(ENV_VAR) or DEFAULT_LOCATION)

    @property
    def duckdb_path(self) -> Path:
        if self.kind != "duckdb" or self.url.database is None:
            raise WarehouseError("this warehouse is not a DuckDB file")
        return Path(self.url.database)

    def describe(self) -> str:
        """Where the warehouse is, for messages: never includes a password."""
        if self.kind == "duckdb":
            return f"DuckDB file {self.duckdb_path}"
        return f"PostgreSQL {self.url.render_as_string(hide_password=True)}"

    def dbt_env(self) -> dict[str, str]:
        """Environment variables dbt_project/profiles.yml reads to reach this warehouse."""
        if self.kind == "duckdb":
            return {
                "COHORTFLOW_DBT_TARGET": "duckdb",
                "COHORTFLOW_DUCKDB_PATH": str(self.duckdb_path),
            }
        return {
            "COHORTFLOW_DBT_TARGET": "postgres",
            "COHORTFLOW_PG_HOST": self.url.host or "127.0.0.1",
            "COHORTFLOW_PG_PORT": str(self.url.port or 5432),
            "COHORTFLOW_PG_USER": self.url.username or "postgres",
            "COHORTFLOW_PG_PASSWORD": self.url.password or "",
            "COHORTFLOW_PG_DATABASE": self.url.database or "postgres",
        }

    def engine(self) -> Engine:
        """A new engine. Callers dispose of it: DuckDB allows one writer process, so connections
        stay short and nothing holds the file while dbt runs."""
        if self.kind == "duckdb":
            return sa.create_engine(
                self.url, poolclass=sa.pool.NullPool, connect_args={"config": duckdb_config()}
            )
        return sa.create_engine(
            self.url, poolclass=sa.pool.NullPool, connect_args={"connect_timeout": 10}
        )


def duckdb_config() -> dict[str, str | bool]:
    """DuckDB settings for cohortflow's own connections: the same memory bound as the dbt profile
    (COHORTFLOW_DUCKDB_MEMORY_LIMIT, default 2GB; DuckDB's own default is 80% of RAM)."""
    return {
        "memory_limit": os.environ.get("COHORTFLOW_DUCKDB_MEMORY_LIMIT", "2GB"),
        "preserve_insertion_order": False,
    }


def require_duckdb_file(warehouse: Warehouse, *, create: bool = False) -> None:
    """Refuse a DuckDB location that connecting would create, unless `create` says to.

    DuckDB creates a missing file on connect, so a typo in COHORTFLOW_WAREHOUSE would otherwise
    leave an empty warehouse behind and fail later with a confusing error. Only a load creates
    one; nothing ever creates the folder it goes in.

    Raises:
        WarehouseError: the folder does not exist, or the file does not and `create` is False.
    """
    if warehouse.kind != "duckdb":
        return
    path = warehouse.duckdb_path
    if not path.parent.is_dir():
        raise WarehouseError(
            f"directory {path.parent} does not exist: create it, or point {ENV_VAR} at a file "
            "in an existing folder."
        )
    if not create and not path.exists():
        raise WarehouseError(
            f"{warehouse.describe()} does not exist: load raw data into it first (`cohortflow "
            f"load --raw-dir DIR`, then `cohortflow run`), or point {ENV_VAR} at your warehouse."
        )


class WarehouseBusy(WarehouseError):
    """The DuckDB file is locked by another process's writer (DuckDB allows one at a time)."""


@contextmanager
def connect(warehouse: Warehouse, *, create: bool = False) -> Iterator[Connection]:
    """A connection in a transaction, committed on success and rolled back on error.

    Args:
        create: create a DuckDB file that does not exist yet (a load); everything else reads or
            adds to a warehouse that a load created.

    Raises:
        WarehouseBusy: another process holds the DuckDB file.
        WarehouseError: when the warehouse does not exist or cannot be reached, in one line.
    """
    require_duckdb_file(warehouse, create=create)
    engine = warehouse.engine()
    try:
        try:
            connection = engine.connect()
        except sa.exc.SQLAlchemyError as error:
            reason = first_line(error)
            if "Conflicting lock" in reason:
                raise WarehouseBusy(
                    f"{warehouse.describe()} is in use by another process (DuckDB allows one "
                    f"writer at a time): wait for it to finish, then run again. {reason}"
                ) from None
            raise WarehouseError(
                f"cannot reach the warehouse ({warehouse.describe()}): {reason}"
            ) from None
        with connection, connection.begin():
            yield connection
    finally:
        engine.dispose()


def first_line(error: BaseException) -> str:
    """The first line of a driver error, without SQLAlchemy's background link."""
    original = getattr(error, "orig", None) or error
    text = str(original).strip().splitlines()
    return text[0] if text else type(original).__name__


def quote_identifier(connection: Connection, name: str) -> str:
    """`name` quoted for this dialect, after checking it is a plain lowercase identifier."""
    check_identifier(name)
    return connection.dialect.identifier_preparer.quote_identifier(name)


def check_identifier(name: str) -> str:
    """Raise unless `name` is a lowercase SQL identifier (schema names come from settings)."""
    if (
        not name
        or not (name[0].isalpha() or name[0] == "_")
        or not all(c.islower() or c.isdigit() or c == "_" for c in name)
    ):
        raise WarehouseError(
            f"'{name}' is not a valid schema or table name (lowercase, digits, _)."
        )
    return name
