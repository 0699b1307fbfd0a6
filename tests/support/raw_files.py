"""Tiny, valid raw folders for tests that need contract-shaped Parquet files, not a whole store."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from activations.loader import arrow_schema
from activations.raw_contract import RAW_TABLES_BY_NAME

T0 = datetime(2026, 6, 1, 10, 0, 0)

MINIMAL_ROWS: dict[str, list[dict[str, Any]]] = {
    "customers": [
        {
            "customer_id": "c1",
            "email": " Ann@Example.com ",
            "phone": "(415) 555-0134",
            "first_name": "Ann",
            "last_name": "Lee",
            "created_at": T0,
            "country": "US",
            "timezone": "America/Los_Angeles",
        },
        {
            "customer_id": "c2",
            "email": "bob@example.org",
            "phone": None,
            "first_name": "Bob",
            "last_name": None,
            "created_at": T0,
            "country": "GB",
            "timezone": None,
        },
    ],
    "orders": [
        {
            "order_id": "o1",
            "customer_id": "c1",
            "email": None,
            "phone": None,
            "ordered_at": T0,
            "total": Decimal("120.50"),
            "currency": "USD",
            "status": "placed",
        },
    ],
    "order_items": [
        {
            "order_id": "o1",
            "line_number": 1,
            "product_id": "p1",
            "quantity": 1,
            "unit_price": Decimal("120.50"),
        },
    ],
    "products": [
        {
            "product_id": "p1",
            "title": "Coffee",
            "category": "Coffee",
            "price": Decimal("120.50"),
            "replenishment_days": 30,
        },
    ],
    "events": [
        {
            "event_id": "e1",
            "anonymous_id": "a1",
            "customer_id": None,
            "email": "ann@example.com",
            "event_type": "identify",
            "product_id": None,
            "occurred_at": T0,
        },
    ],
    "message_events": [
        {
            "message_id": "m1",
            "channel": "email",
            "email": "ann@example.com",
            "phone": None,
            "event_type": "sent",
            "campaign": "welcome",
            "occurred_at": T0,
        },
    ],
    "consents": [
        {
            "channel": "email",
            "email": "ann@example.com",
            "phone": None,
            "status": "subscribed",
            "occurred_at": T0,
            "source": "checkout",
        },
    ],
}


def contract_table(name: str, rows: list[dict[str, Any]]) -> pa.Table:
    """`rows` as an Arrow table with the contract's columns and types for raw table `name`."""
    return pa.Table.from_pylist(rows, schema=arrow_schema(RAW_TABLES_BY_NAME[name]))


def write_raw_folder(folder: Path, rows: dict[str, list[dict[str, Any]]] | None = None) -> Path:
    """Write one Parquet file per contract table (MINIMAL_ROWS unless `rows` overrides a table)."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, default in MINIMAL_ROWS.items():
        pq.write_table(
            contract_table(name, (rows or {}).get(name, default)), folder / f"{name}.parquet"
        )
    return folder
