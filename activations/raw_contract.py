"""The raw data contract (DESIGN §3): the tables and typed columns cohortflow reads from `raw`.

One definition shared by the synthetic generator, the loader's validation and the tests, so the
three can never disagree about what a raw table looks like.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

LogicalType = Literal["text", "timestamp", "decimal", "integer"]


@dataclass(frozen=True)
class RawColumn:
    """One contract column: its name, logical type and whether the contract marks it as the key."""

    name: str
    type: LogicalType
    key: bool = False


@dataclass(frozen=True)
class RawTable:
    """One contract table with its ordered columns."""

    name: str
    columns: tuple[RawColumn, ...]

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(column.name for column in self.columns)


def _table(
    name: str, *columns: tuple[str, LogicalType] | tuple[str, LogicalType, bool]
) -> RawTable:
    return RawTable(name, tuple(RawColumn(*spec) for spec in columns))


RAW_TABLES: tuple[RawTable, ...] = (
    _table(
        "customers",
        ("customer_id", "text", True),
        ("email", "text"),
        ("phone", "text"),
        ("first_name", "text"),
        ("last_name", "text"),
        ("created_at", "timestamp"),
        ("country", "text"),
        ("timezone", "text"),
    ),
    _table(
        "orders",
        ("order_id", "text", True),
        ("customer_id", "text"),
        ("email", "text"),
        ("phone", "text"),
        ("ordered_at", "timestamp"),
        ("total", "decimal"),
        ("currency", "text"),
        ("status", "text"),
    ),
    _table(
        "order_items",
        ("order_id", "text"),
        ("line_number", "integer"),
        ("product_id", "text"),
        ("quantity", "integer"),
        ("unit_price", "decimal"),
    ),
    _table(
        "products",
        ("product_id", "text", True),
        ("title", "text"),
        ("category", "text"),
        ("price", "decimal"),
        ("replenishment_days", "integer"),
    ),
    _table(
        "events",
        ("event_id", "text", True),
        ("anonymous_id", "text"),
        ("customer_id", "text"),
        ("email", "text"),
        ("event_type", "text"),
        ("product_id", "text"),
        ("occurred_at", "timestamp"),
    ),
    _table(
        "message_events",
        ("message_id", "text"),
        ("channel", "text"),
        ("email", "text"),
        ("phone", "text"),
        ("event_type", "text"),
        ("campaign", "text"),
        ("occurred_at", "timestamp"),
    ),
    _table(
        "consents",
        ("channel", "text"),
        ("email", "text"),
        ("phone", "text"),
        ("status", "text"),
        ("occurred_at", "timestamp"),
        ("source", "text"),
    ),
)

RAW_TABLES_BY_NAME: dict[str, RawTable] = {table.name: table for table in RAW_TABLES}

ORDER_STATUSES = ("placed", "cancelled", "refunded")
EVENT_TYPES = ("page_view", "product_view", "add_to_cart", "checkout_started", "identify")
MESSAGE_CHANNELS = ("email", "sms")
MESSAGE_EVENT_TYPES = (
    "sent",
    "delivered",
    "opened",
    "clicked",
    "bounced",
    "unsubscribed",
    "complained",
)
CONSENT_STATUSES = ("subscribed", "unsubscribed")

# Decimal columns are loaded as DECIMAL(18, 2): money with cents, wide enough for any order total.
DECIMAL_PRECISION = 18
DECIMAL_SCALE = 2
