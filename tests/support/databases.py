"""Fresh PostgreSQL databases on a running server, one per test, so tests never share tables."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import sqlalchemy as sa
from sqlalchemy.engine import make_url


@contextmanager
def temporary_database(server_url: str, options: str = "") -> Iterator[str]:
    """A brand-new database on `server_url` (created `with` `options`), dropped afterwards."""
    server = make_url(server_url).set(drivername="postgresql+psycopg2")
    name = f"cf_test_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(server, isolation_level="AUTOCOMMIT", poolclass=sa.pool.NullPool)
    with admin.connect() as connection:
        connection.exec_driver_sql(f'create database "{name}" {options}')
    try:
        yield server.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.exec_driver_sql(f'drop database if exists "{name}" with (force)')
        admin.dispose()
