"""Fixtures shared by the orchestration tests: a tiny dirty raw store in a temp DuckDB file."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from activations.raw_contract import RAW_TABLES

_DUCKDB_TYPES = {
    "text": "varchar",
    "timestamp": "timestamp",
    "decimal": "decimal(18,2)",
    "integer": "bigint",
}


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


@pytest.fixture
def raw_warehouse(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A DuckDB warehouse holding only the raw store, which COHORTFLOW_WAREHOUSE points at.

    dagster-dbt writes each run's artifacts under DBT_TARGET_PATH: they go to tmp_path/dbt_target,
    out of the repo.
    """
    warehouse = tmp_path / "warehouse.duckdb"
    _write_raw_store(warehouse)
    monkeypatch.setenv("COHORTFLOW_WAREHOUSE", str(warehouse))
    monkeypatch.setenv("DBT_TARGET_PATH", str(tmp_path / "dbt_target"))
    return warehouse
