"""The dbt models agree, person by person, with the plain-Python reference (tests/reference).

Hypothesis builds adversarial raw stores: long identifier chains, shared addresses on exactly
`identity_max_customers` and one more customer, guest orders, dirty and invalid emails, phones in
local formats read in the wrong region, duplicate rows and keys, cancelled/refunded/future orders,
and order timestamps on the 90/365-day boundaries and one second either side. Many small
independent cases (each under its own prefix) share one store, because a dbt build takes seconds.
After each build the identity partition and person ids, every person's lifecycle row and every RFM
score must equal the reference exactly. A failure lists the differing rows with the raw rows of
the case they came from; shrinking is off because every example costs a dbt build.

The same comparison runs on the synthetic store (realistic shares and dirt), and one adversarial
store is built on DuckDB and PostgreSQL to check that both warehouses give identical tables.
"""

from __future__ import annotations

import random
import uuid
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, Phase, given, note
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from activations import transform
from activations.phones import refresh_phone_lookup
from activations.raw_contract import RAW_TABLES, RAW_TABLES_BY_NAME
from activations.settings import Settings
from activations.warehouse import Warehouse, connect
from tests.reference import model
from tests.reference.model import Identifier, Lifecycle, Reference, Rfm
from tests.support.databases import temporary_database

pytestmark = pytest.mark.integration

AS_OF = datetime(2026, 6, 30, 12, 0, 0)
SECOND = timedelta(seconds=1)
MICROSECOND = timedelta(microseconds=1)
DAY = timedelta(days=1)
SELECT = "+person_rfm +person_lifecycle"

RawStore = dict[str, list[dict[str, Any]]]

# ----------------------------------------------------------------------------------------------
# Raw tables in a warehouse

_SQL_TYPES = {
    "text": "varchar",
    "timestamp": "timestamp",
    "decimal": "decimal(18, 2)",
    "integer": "bigint",
}
_ARROW_TYPES = {
    "text": pa.string(),
    "timestamp": pa.timestamp("us"),
    "decimal": pa.decimal128(18, 2),
    "integer": pa.int64(),
}
_SA_TYPES: dict[str, Any] = {
    "text": sa.Text(),
    "timestamp": sa.DateTime(),
    "decimal": sa.Numeric(18, 2),
    "integer": sa.BigInteger(),
}


def _arrow_table(name: str, rows: Sequence[Mapping[str, Any]]) -> pa.Table:
    table = RAW_TABLES_BY_NAME[name]
    schema = pa.schema([(c.name, _ARROW_TYPES[c.type]) for c in table.columns])
    return pa.Table.from_pylist(
        [{c: row.get(c) for c in table.column_names} for row in rows], schema
    )


def write_raw_duckdb(path: str, raw: Mapping[str, Sequence[Mapping[str, Any]] | pa.Table]) -> None:
    """Create schema raw with every contract table in a DuckDB file and insert `raw`'s rows."""
    connection = duckdb.connect(path)
    try:
        connection.execute("create schema if not exists raw")
        for table in RAW_TABLES:
            columns = ", ".join(f"{c.name} {_SQL_TYPES[c.type]}" for c in table.columns)
            connection.execute(f"create table raw.{table.name} ({columns})")
            data = raw.get(table.name, [])
            arrow = data if isinstance(data, pa.Table) else _arrow_table(table.name, data)
            if arrow.num_rows:
                connection.register("incoming", arrow)
                names = ", ".join(table.column_names)
                connection.execute(f"insert into raw.{table.name} select {names} from incoming")
                connection.unregister("incoming")
    finally:
        connection.close()


def write_raw_postgres(url: str, raw: Mapping[str, Sequence[Mapping[str, Any]]]) -> None:
    """The same on PostgreSQL, through SQLAlchemy."""
    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    metadata = sa.MetaData(schema="raw")
    tables = {
        table.name: sa.Table(
            table.name,
            metadata,
            *(sa.Column(c.name, _SA_TYPES[c.type]) for c in table.columns),
        )
        for table in RAW_TABLES
    }
    try:
        with engine.begin() as connection:
            connection.exec_driver_sql("create schema if not exists raw")
            metadata.create_all(connection)
            for name, table in tables.items():
                rows = raw.get(name, [])
                if rows:
                    columns = RAW_TABLES_BY_NAME[name].column_names
                    connection.execute(
                        table.insert(), [{c: row.get(c) for c in columns} for row in rows]
                    )
    finally:
        engine.dispose()


def build_models(location: str) -> Warehouse:
    """Phone lookup + `dbt build` of lifecycle and RFM with their ancestors and tests."""
    settings = Settings(warehouse=Warehouse.from_location(location))
    with connect(settings.warehouse) as connection:
        refresh_phone_lookup(
            connection,
            raw_schema=settings.raw_schema,
            state_schema=settings.state_schema,
            default_region=settings.default_phone_region,
        )
    # A subset build uses cautious indirect selection (transform.build): the relationship test
    # from segment_membership to dim_person is left out instead of failing on a missing table.
    transform.build(settings.warehouse, as_of=AS_OF, extra_vars=settings.dbt_vars(), select=SELECT)
    return settings.warehouse


# ----------------------------------------------------------------------------------------------
# What the models hold, in the reference's shapes


@dataclass(frozen=True)
class Built:
    identifiers: dict[Identifier, str]
    is_known: dict[str, bool]
    lifecycle: dict[str, Lifecycle]
    rfm: dict[str, Rfm]
    orders: dict[str, tuple[Any, ...]]  # stg_orders by order_id
    customers: dict[str, tuple[Any, ...]]  # stg_customers by customer_id
    attributed: dict[str, str]  # int_orders__attributed: order_id -> person_id


_ORDER_COLUMNS = ("customer_id", "email", "phone", "status", "ordered_at", "total")
_CUSTOMER_COLUMNS = ("email", "phone", "country")


def read_models(warehouse: Warehouse) -> Built:
    def rows(connection: sa.Connection, query: str) -> list[sa.Row[Any]]:
        return list(connection.execute(sa.text(query)))

    with connect(warehouse) as c:
        identifiers = {
            (row.identifier_type, row.identifier_value): row.person_id
            for row in rows(c, "select * from analytics.person_identifiers")
        }
        is_known = {
            row.person_id: bool(row.is_known)
            for row in rows(c, "select person_id, is_known from analytics.dim_person")
        }
        lifecycle = {
            row.person_id: Lifecycle(
                lifecycle_stage=row.lifecycle_stage,
                orders_count=int(row.orders_count),
                revenue=Decimal(row.revenue),
                first_order_at=row.first_order_at,
                last_order_at=row.last_order_at,
                orders_last_year=int(row.orders_last_year),
                revenue_last_year=Decimal(row.revenue_last_year),
                was_ever_vip=bool(row.was_ever_vip),
            )
            for row in rows(c, "select * from analytics.person_lifecycle")
        }
        rfm = {
            row.person_id: Rfm(
                int(row.recency_score),
                int(row.frequency_score),
                int(row.monetary_score),
                int(row.frequency_monetary_score),
                row.rfm_tier,
            )
            for row in rows(c, "select * from analytics.person_rfm")
        }
        orders = {
            row.order_id: tuple(getattr(row, col) for col in _ORDER_COLUMNS)
            for row in rows(c, "select * from staging.stg_orders")
        }
        customers = {
            row.customer_id: tuple(getattr(row, col) for col in _CUSTOMER_COLUMNS)
            for row in rows(c, "select * from staging.stg_customers")
        }
        attributed = {
            row.order_id: row.person_id
            for row in rows(c, "select order_id, person_id from analytics.int_orders__attributed")
        }
    return Built(identifiers, is_known, lifecycle, rfm, orders, customers, attributed)


def expected_models(reference: Reference) -> Built:
    return Built(
        identifiers=reference.identifiers,
        is_known=reference.is_known,
        lifecycle=reference.lifecycle,
        rfm=reference.rfm,
        orders={
            row["order_id"]: tuple(row[col] for col in _ORDER_COLUMNS)
            for row in reference.staged.orders
        },
        customers={
            row["customer_id"]: tuple(row[col] for col in _CUSTOMER_COLUMNS)
            for row in reference.staged.customers
        },
        attributed={order.order_id: order.person_id for order in reference.orders},
    )


# ----------------------------------------------------------------------------------------------
# Comparison with readable failures


def _mapping_diff(
    name: str,
    actual: Mapping[Any, Any],
    expected: Mapping[Any, Any],
    label: Callable[[Any], str] = lambda key: "",
) -> list[str]:
    lines = []
    for key in sorted(set(actual) | set(expected), key=repr):
        got, want = actual.get(key, "<missing>"), expected.get(key, "<missing>")
        if got != want:
            lines.append(
                f"  {name}[{key!r}]{label(key)}:\n    sql       = {got!r}\n    reference = {want!r}"
            )
    return lines


def _identity_diff(
    actual: Mapping[Identifier, str], expected: Mapping[Identifier, str]
) -> list[str]:
    if actual == expected:
        return []
    members_sql: dict[str, set[Identifier]] = defaultdict(set)
    for identifier, person in actual.items():
        members_sql[person].add(identifier)
    members_ref: dict[str, set[Identifier]] = defaultdict(set)
    for identifier, person in expected.items():
        members_ref[person].add(identifier)
    lines = []
    if model.partition_of(actual) != model.partition_of(expected):
        lines.append("  the identity PARTITIONS differ:")
    for identifier in sorted(set(actual) | set(expected)):
        got, want = actual.get(identifier), expected.get(identifier)
        if got == want:
            continue
        lines.append(
            f"  {identifier}: sql person {got} {sorted(members_sql.get(got or '', ()))}\n"
            f"    reference person {want} {sorted(members_ref.get(want or '', ()))}"
        )
    return lines


def differences(actual: Built, expected: Built) -> list[str]:
    members: dict[str, set[Identifier]] = defaultdict(set)
    for identifiers in (actual.identifiers, expected.identifiers):
        for identifier, person in identifiers.items():
            members[person].add(identifier)

    def person(person_id: str) -> str:
        shown = sorted(members.get(person_id, ()))
        return f" {shown[:6]}{' ...' if len(shown) > 6 else ''}"

    lines = _identity_diff(actual.identifiers, expected.identifiers)
    lines += _mapping_diff("stg_customers", actual.customers, expected.customers)
    lines += _mapping_diff("stg_orders", actual.orders, expected.orders)
    lines += _mapping_diff("dim_person.is_known", actual.is_known, expected.is_known, person)
    lines += _mapping_diff("int_orders__attributed", actual.attributed, expected.attributed)
    lines += _mapping_diff("person_lifecycle", actual.lifecycle, expected.lifecycle, person)
    lines += _mapping_diff("person_rfm", actual.rfm, expected.rfm, person)
    return lines


def _cases_mentioned(lines: Iterable[str], prefixes: Iterable[str]) -> list[str]:
    text = "\n".join(lines)
    return [prefix for prefix in prefixes if f"{prefix}-" in text or f".{prefix}@" in text]


def assert_matches_reference(
    actual: Built, reference: Reference, raw: RawStore | None = None, limit: int = 40
) -> None:
    lines = differences(actual, expected_models(reference))
    if not lines:
        return
    message = [f"{len(lines)} difference(s) between the models and the reference:"]
    message += lines[:limit]
    if len(lines) > limit:
        message.append(f"  ... and {len(lines) - limit} more")
    if raw is not None:
        cases = _cases_mentioned(lines, sorted({row["_case"] for row in _all_rows(raw)}))
        for case in cases[:3]:
            message.append(f"raw rows of case {case}:")
            message += [f"  {name}: {row}" for name, row in _case_rows(raw, case)]
    pytest.fail("\n".join(message), pytrace=False)


def _all_rows(raw: RawStore) -> Iterable[dict[str, Any]]:
    for rows in raw.values():
        yield from rows


def _case_rows(raw: RawStore, case: str) -> Iterable[tuple[str, dict[str, Any]]]:
    for name, rows in raw.items():
        for row in rows:
            if row["_case"] == case:
                yield name, {k: v for k, v in row.items() if k != "_case" and v is not None}


# ----------------------------------------------------------------------------------------------
# Adversarial raw stores

BOUNDARY_TIMES = (
    AS_OF,
    AS_OF - SECOND,
    AS_OF + SECOND,
    AS_OF - 90 * DAY - SECOND,
    AS_OF - 90 * DAY,
    AS_OF - 90 * DAY + SECOND,
    AS_OF - 365 * DAY - SECOND,
    AS_OF - 365 * DAY,
    AS_OF - 365 * DAY + SECOND,
)
OTHER_TIMES = (
    AS_OF - 7 * DAY,
    AS_OF - 45 * DAY,
    AS_OF - 200 * DAY,
    AS_OF - 300 * DAY,
    AS_OF - 500 * DAY,
    AS_OF - 1000 * DAY,
    AS_OF + 30 * DAY,
    # Sub-second either side of the limits (as_of itself has whole seconds).
    AS_OF + MICROSECOND,
    AS_OF - 90 * DAY - MICROSECOND,
    AS_OF - 365 * DAY + MICROSECOND,
)
TOTALS = tuple(
    Decimal(text)
    for text in (
        "0.00",
        "0.01",
        "9.99",
        "10.00",
        "100.00",
        "124.99",
        "125.00",
        "250.00",
        "499.99",
        "500.00",
        "1000.00",
        "-5.00",
    )
)
LOCAL_NAMES = ("ann", "o'neil", "bob+promo", "x_y", "a.b-c", "pct%", "zoe")
DOMAINS = ("example.com", "mail.co.uk", "ex-ample.io", "shop.example.org")
INVALID_EMAILS = (
    "ann@",
    "ann",
    "n/a",
    "none",
    "ann@example",
    "ann@example.c",
    "ann @example.com",
    "ann@exa_mple.com",
    "\tann@example.com",
    "ann@example.com.",
    "ann@@example.com",
    "ann@example.c0m",
    "",
    "   ",
)
JUNK_PHONES = ("123", "n/a", "0000", "x", "   ", "", "+1 (000) 000-0000", "555-0134")
COUNTRIES = (None, "US", "us ", " GB", "gb", "DE", "", "  ", "ZZ")
EVENT_TYPES = ("page_view", "product_view", "add_to_cart", "checkout_started", "identify")
BAD_EVENT_TYPES = ("purchase", "", None)
CUSTOMER_LINK_TABLES = ("customers", "orders", "events")


class StoreBuilder:
    """Raw rows for many small independent cases; every row carries `_case` (not a column)."""

    def __init__(self) -> None:
        self.raw: RawStore = {table.name: [] for table in RAW_TABLES}
        self.counter = 0
        self.case = ""
        self.rng = random.Random(0)
        self.customer_rows: dict[str, dict[str, Any]] = {}

    # -- plumbing -------------------------------------------------------------------------------

    def begin(self, case: str, seed: int) -> None:
        self.case = case
        self.rng = random.Random(seed)
        self.customer_rows = {}

    def end(self) -> None:
        for row in self.customer_rows.values():
            self.add("customers", **row)
        self.customer_rows = {}

    def next_number(self) -> int:
        self.counter += 1
        return self.counter

    def add(self, table: str, **values: Any) -> dict[str, Any]:
        unknown = set(values) - set(RAW_TABLES_BY_NAME[table].column_names)
        assert not unknown, unknown
        row = {column: values.get(column) for column in RAW_TABLES_BY_NAME[table].column_names}
        row["_case"] = self.case
        self.raw[table].append(row)
        return row

    def chance(self, probability: float) -> bool:
        return self.rng.random() < probability

    def pick(self, options: Sequence[Any]) -> Any:
        return self.rng.choice(options)

    # -- identifiers ----------------------------------------------------------------------------

    def customer_id(self) -> str:
        return f"{self.case}-c{self.next_number()}"

    def anonymous_id(self) -> str:
        return f"{self.case}-a{self.next_number()}"

    def email(self) -> str:
        """A new valid, normalised email (the case prefix is in it, for failure reports)."""
        local = self.pick(LOCAL_NAMES)
        return f"{local}{self.next_number()}.{self.case}@{self.pick(DOMAINS)}"

    def dirty(self, email: str) -> str:
        """The same address as a loader might deliver it: any case, padded with spaces."""
        style = self.rng.randrange(4)
        if style == 1:
            email = email.upper()
        elif style == 2:
            email = "".join(ch.upper() if self.chance(0.5) else ch for ch in email)
        if self.chance(0.4):
            email = " " * self.rng.randrange(1, 3) + email + " " * self.rng.randrange(3)
        return email

    def maybe_dirty(self, email: str | None) -> str | None:
        return None if email is None else self.dirty(email)

    def invalid_email(self) -> str:
        return self.pick(INVALID_EMAILS)

    def phone(self) -> tuple[str, int]:
        """A new number: ('us', n) or ('gb', n), written by `formatted`."""
        n = self.next_number()
        return ("gb", n) if self.chance(0.3) else ("us", n)

    def formatted(self, phone: tuple[str, int]) -> str:
        """The number in a format people type; local formats only parse in their own region.
        Numbers of kind 'intl' are always written in an international format."""
        kind, n = phone
        if kind == "intl":
            if n % 2:
                exchange, line = 200 + n // 10000 % 800, n % 10000
                return self.pick((f"+1 646 {exchange} {line:04d}", f"+1646{exchange}{line:04d}"))
            return self.pick((f"+44 20 7{n:07d}", f" +44207{n:07d}"))
        if kind == "gb":
            digits = f"7946{n % 10000:04d}"
            return self.pick(
                (
                    f"020 {digits[:4]} {digits[4:]}",
                    f"+44 20 {digits[:4]} {digits[4:]}",
                    f"+4420{digits}",
                    f" 020{digits} ",
                )
            )
        area = (212, 415, 312)[n % 3]
        exchange, line = 200 + (n // 10000) % 800, n % 10000
        return self.pick(
            (
                f"({area}) {exchange}-{line:04d}",
                f"{area}.{exchange}.{line:04d}",
                f"+1 {area} {exchange} {line:04d}",
                f"1-{area}-{exchange}-{line:04d}",
                f"{area}{exchange}{line:04d}",
                f" ({area}) {exchange}-{line:04d} ",
            )
        )

    def us_phone(self) -> tuple[str, int]:
        return ("us", self.next_number())

    # -- rows -----------------------------------------------------------------------------------

    def when(self) -> datetime:
        return self.pick(BOUNDARY_TIMES if self.chance(0.6) else OTHER_TIMES)

    def total(self) -> Decimal:
        return self.pick(TOTALS)

    def country(self) -> str | None:
        return self.pick(COUNTRIES)

    def customer(
        self,
        customer_id: str,
        email: str | None = None,
        phone: tuple[str, int] | None = None,
        **overrides: Any,
    ) -> None:
        """The customer's row (one per case and id; written when the case ends)."""
        row = self.customer_rows.setdefault(
            customer_id,
            {
                "customer_id": customer_id if self.chance(0.8) else f" {customer_id} ",
                "first_name": self.pick(("Ann", None, " ", "Bob")),
                "last_name": self.pick(("Lee", None)),
                "created_at": self.pick((AS_OF - 800 * DAY, AS_OF - 100 * DAY, None)),
                "country": self.country(),
                "timezone": self.pick((None, "Europe/London", "America/New_York")),
            },
        )
        if email is not None:
            row["email"] = self.dirty(email)
        if phone is not None:
            row["phone"] = self.formatted(phone)
        row.update(overrides)

    def order(
        self,
        customer_id: str | None = None,
        email: str | None = None,
        phone: tuple[str, int] | None = None,
        *,
        status: str | None = None,
        ordered_at: datetime | None = None,
        total: Decimal | None = None,
        order_id: str | None = None,
        counted: bool | None = None,
    ) -> str:
        """An order row; `counted` True forces a placed order at or before as_of."""
        if status is None:
            status = self.pick(("placed",) * 6 + ("cancelled", "refunded", " Placed ", "PLACED"))
        if ordered_at is None:
            ordered_at = self.when()
        if counted:
            status = self.pick(("placed", "placed", " Placed "))
            ordered_at = min(ordered_at, AS_OF)
        order_id = order_id or f"{self.case}-o{self.next_number()}"
        self.add(
            "orders",
            order_id=order_id,
            customer_id=customer_id,
            email=self.maybe_dirty(email),
            phone=None if phone is None else self.formatted(phone),
            ordered_at=ordered_at,
            total=self.total() if total is None else total,
            currency=self.pick(("USD", "usd", None)),
            status=status,
        )
        return order_id

    def event(
        self,
        anonymous_id: str | None = None,
        customer_id: str | None = None,
        email: str | None = None,
        *,
        event_type: str | None = None,
        occurred_at: datetime | None = None,
        event_id: str | None = None,
    ) -> None:
        self.add(
            "events",
            event_id=event_id or f"{self.case}-e{self.next_number()}",
            anonymous_id=anonymous_id,
            customer_id=customer_id,
            email=self.maybe_dirty(email),
            event_type=event_type or ("identify" if email else self.pick(EVENT_TYPES)),
            product_id=self.pick((None, "p1")),
            occurred_at=occurred_at or self.when(),
        )

    def consent(
        self,
        email: str | None,
        phone: tuple[str, int] | None,
        *,
        channel: str | None = None,
        **overrides: Any,
    ) -> None:
        if channel is None:
            channel = "email" if email is not None else "sms"
        values = {
            "channel": channel,
            "email": self.maybe_dirty(email),
            "phone": None if phone is None else self.formatted(phone),
            "status": self.pick(("subscribed", "unsubscribed", " Subscribed")),
            "occurred_at": self.when(),
            "source": self.pick(("checkout", None)),
        }
        self.add("consents", **{**values, **overrides})

    def message(self, email: str | None, phone: tuple[str, int] | None, **overrides: Any) -> None:
        values = {
            "message_id": f"{self.case}-m{self.next_number()}",
            "channel": "email" if email is not None else "sms",
            "email": email,
            "phone": None if phone is None else self.formatted(phone),
            "event_type": self.pick(("sent", "delivered", "opened", "clicked")),
            "campaign": "spring",
            "occurred_at": self.when(),
        }
        self.add("message_events", **{**values, **overrides})

    def some_orders(
        self,
        customer_id: str | None = None,
        email: str | None = None,
        phone: tuple[str, int] | None = None,
        most: int = 3,
    ) -> None:
        for _ in range(self.rng.randrange(most + 1)):
            self.order(customer_id, email, phone)


# -- case kinds: each builds one small scenario under the builder's current case prefix -------


def case_chain(b: StoreBuilder) -> None:
    """device -> email -> customer -> phone -> customer -> ... : every link from another table,
    occasionally broken by a rejected row, with orders hanging off the customers and emails."""
    neighbours = {
        "anonymous_id": ("email", "customer_id"),
        "email": ("anonymous_id", "customer_id", "phone"),
        "customer_id": ("anonymous_id", "email", "phone"),
        "phone": ("email", "customer_id"),
    }
    fresh: dict[str, Callable[[], Any]] = {
        "anonymous_id": b.anonymous_id,
        "email": b.email,
        "customer_id": b.customer_id,
        "phone": b.phone,
    }
    kind = b.pick(tuple(neighbours))
    nodes: list[tuple[str, Any]] = [(kind, fresh[kind]())]
    for _ in range(b.rng.randrange(3, 10)):
        kind = b.pick(neighbours[nodes[-1][0]])
        same_kind = [node for node in nodes[:-1] if node[0] == kind]
        if same_kind and b.chance(0.15):  # close a cycle
            nodes.append(b.pick(same_kind))
        else:
            nodes.append((kind, fresh[kind]()))
    for left, right in zip(nodes, nodes[1:], strict=False):
        _link(b, dict([left, right]), broken=b.chance(0.1))
    for kind, value in nodes:
        if kind == "customer_id" and b.chance(0.7):
            b.some_orders(customer_id=value)
        elif kind == "email" and b.chance(0.3):
            b.some_orders(email=value, most=1)
        elif kind == "phone" and b.chance(0.3):
            b.some_orders(phone=value, most=1)


def _link(b: StoreBuilder, pair: dict[str, Any], *, broken: bool) -> None:
    """One raw row carrying both identifiers of `pair`; `broken` makes it a rejected row."""
    customer, email = pair.get("customer_id"), pair.get("email")
    phone, anonymous = pair.get("phone"), pair.get("anonymous_id")
    if anonymous is not None:
        b.event(
            anonymous,
            customer,
            email,
            event_type=b.pick(BAD_EVENT_TYPES) if broken else None,
        )
    elif customer is not None:
        table = b.pick(CUSTOMER_LINK_TABLES)
        if table == "customers" and customer not in b.customer_rows and not broken:
            b.customer(customer, email, phone)
        elif table == "events" and email is not None:
            b.event(None, customer, email, event_type="purchase" if broken else None)
        else:
            b.order(customer, email, phone, status="pending" if broken else None)
    else:
        table = b.pick(("consents", "message_events", "orders"))
        if table == "consents":
            b.consent(email, phone, channel=b.pick(("push", None)) if broken else None)
        elif table == "message_events":
            b.message(email, phone, occurred_at=None if broken else b.when())
        else:
            b.order(None, email, phone, total=None if broken else b.total())


def case_shared_address(b: StoreBuilder) -> None:
    """An email or phone on exactly identity_max_customers customers and on one more (plus
    sometimes another size): at 5 it merges them all, at 6 it links nothing but is still its own
    (known) person."""
    sizes = [5, 6] + ([b.pick((1, 4, 7))] if b.chance(0.5) else [])
    for n in sizes:
        _shared_group(b, n)


def _shared_group(b: StoreBuilder, n: int) -> None:
    shared_email = b.email() if b.chance(0.6) else None
    shared_phone = None if shared_email is not None else ("intl", b.next_number())
    customers = [b.customer_id() for _ in range(n)]
    for customer in customers:
        table = b.pick(CUSTOMER_LINK_TABLES)
        if table == "events" and shared_email is None:
            table = "orders"
        own = b.pick(("email", "phone", None))
        own_email = b.email() if own == "email" else None
        own_phone = b.phone() if own == "phone" else None
        if table == "customers":
            b.customer(customer, shared_email, shared_phone)
            if own_email or own_phone:
                b.order(customer, own_email, own_phone)
        elif table == "events":
            b.event(b.pick((None, b.anonymous_id())), customer, shared_email)
            b.customer(customer, own_email, own_phone)
        else:
            b.order(customer, shared_email, shared_phone)
            b.customer(customer, own_email, own_phone)
        if b.chance(0.3):  # the same customer again: still one distinct customer_id
            b.order(customer, shared_email, shared_phone, status="cancelled")
        b.some_orders(customer_id=customer, most=2)
    # Rows that do not count towards the guard: rejected ones, and ones without a customer id.
    if b.chance(0.5):
        b.order(b.customer_id(), shared_email, shared_phone, status="pending")
    b.order(None, shared_email, shared_phone, counted=True)
    # A guest order with the shared identifier and a fresh one of the other kind: it links
    # nothing and is attributed by email first (to the shared email or the fresh email).
    b.order(None, shared_email or b.email(), shared_phone or b.us_phone(), counted=True)
    if shared_email is not None:
        b.event(b.anonymous_id(), None, shared_email)
    b.consent(shared_email, b.phone() if shared_email else shared_phone)


def case_guest_orders(b: StoreBuilder) -> None:
    """Guest orders with only an email, only a phone, both, or neither usable."""
    customer, email, phone = b.customer_id(), b.email(), b.us_phone()
    b.customer(customer, email if b.chance(0.7) else None, phone if b.chance(0.7) else None)
    b.order(None, email, None, counted=b.chance(0.5))
    b.order(None, None, phone)
    b.order(None, b.email(), None, counted=True)
    b.order(None, None, b.phone(), counted=True)
    b.order(None, b.email(), b.phone())
    b.add(  # invalid email, valid phone: attributed by phone
        "orders",
        order_id=f"{b.case}-o{b.next_number()}",
        email=b.invalid_email(),
        phone=b.formatted(b.us_phone()),
        ordered_at=b.when(),
        total=b.total(),
        status="placed",
    )
    b.add(  # no usable identifier: rejected
        "orders",
        order_id=f"{b.case}-o{b.next_number()}",
        email=b.invalid_email(),
        phone=b.pick(JUNK_PHONES),
        ordered_at=b.when(),
        total=b.total(),
        status="placed",
    )


def case_customer_duplicates(b: StoreBuilder) -> None:
    """The same customer_id on several rows (padded, other emails, null created_at): the newest
    row wins and decides the email, phone and the country orders' phones are read in."""
    customer = b.customer_id()
    phone = ("gb", b.next_number())
    for _ in range(b.rng.randrange(2, 4)):
        b.add(
            "customers",
            customer_id=b.pick((customer, f" {customer}", f"{customer}  ")),
            email=b.pick((b.dirty(b.email()), b.invalid_email(), None)),
            phone=b.pick((b.formatted(phone), b.formatted(b.phone()), None)),
            created_at=b.pick((AS_OF - 800 * DAY, AS_OF - 100 * DAY, AS_OF - 100 * DAY, None)),
            country=b.pick(("GB", " gb", "US", None)),
        )
    if b.chance(0.5):  # an exact copy
        b.raw["customers"].append(dict(b.raw["customers"][-1]))
    b.add("customers", customer_id=b.pick(("", "  ", None)), email=b.dirty(b.email()))
    # Local-format GB phone: valid only if the winning row's country is GB.
    b.order(customer, None, None, counted=True)
    b.add(
        "orders",
        order_id=f"{b.case}-o{b.next_number()}",
        customer_id=customer,
        phone=f"020 7946 {phone[1] % 10000:04d}",
        ordered_at=b.when(),
        total=b.total(),
        status="placed",
    )
    b.order(None, None, phone, counted=True)


def case_order_duplicates(b: StoreBuilder) -> None:
    """Order ids repeated with other statuses, times, totals and buyers (often tied on the first
    sort keys, so later ones decide); unusable statuses and nulls."""
    customer, email = b.customer_id(), b.email()
    b.customer(customer, email, b.phone() if b.chance(0.5) else None)
    other_email = b.email()
    for _ in range(b.rng.randrange(2, 5)):
        order_id = f"{b.case}-o{b.next_number()}"
        ordered_at, total = b.when(), b.total()
        for _ in range(b.rng.randrange(1, 4)):
            guest = b.chance(0.3)
            b.add(
                "orders",
                order_id=b.pick((order_id, order_id, f" {order_id} ")),
                customer_id=None if guest else customer,
                email=b.dirty(other_email) if guest else None,
                ordered_at=ordered_at if b.chance(0.6) else b.pick((b.when(), None)),
                total=total if b.chance(0.6) else b.pick((b.total(), None)),
                currency="USD",
                status=b.pick(("placed", "PLACED", "cancelled", "refunded", "pending", None, "")),
            )
        if b.chance(0.4):
            b.raw["orders"].append(dict(b.raw["orders"][-1]))
    b.add("orders", order_id=" ", customer_id=customer, ordered_at=AS_OF, total=Decimal(1))


def case_lifecycle_boundaries(b: StoreBuilder) -> None:
    """Buyers whose last order sits on a 90/365-day boundary or one second either side, and
    VIP candidates with the window's first order on its edge or revenue of 499.99/500.00."""
    for ordered_at in b.rng.sample(BOUNDARY_TIMES, 4):
        customer = b.customer_id()
        b.customer(customer, b.email())
        if b.chance(0.5):
            b.order(customer, ordered_at=AS_OF - 700 * DAY, status="placed")
        b.order(customer, ordered_at=ordered_at, status="placed")
    customer = b.customer_id()
    b.customer(customer, b.email())
    edge = b.pick((AS_OF - 365 * DAY - SECOND, AS_OF - 365 * DAY, AS_OF - 365 * DAY + SECOND))
    b.order(customer, ordered_at=edge, status="placed", total=Decimal("1.00"))
    for days in b.rng.sample((1, 10, 30, 60, 89), b.pick((2, 3))):
        b.order(customer, ordered_at=AS_OF - days * DAY, status="placed", total=Decimal("1.00"))
    customer = b.customer_id()
    b.customer(customer, b.email())
    first = b.pick((Decimal("499.99"), Decimal("500.00"), Decimal("250.00")))
    b.order(customer, ordered_at=edge, status="placed", total=first)
    b.order(customer, ordered_at=AS_OF - 10 * DAY, status="placed", total=Decimal("0.01"))
    b.order(customer, ordered_at=AS_OF + SECOND, status="placed", total=Decimal("1000.00"))
    b.order(customer, ordered_at=AS_OF - DAY, status="cancelled", total=Decimal("1000.00"))
    # A past VIP streak (was_ever_vip): 4 orders or 500.00 within 365 days of one of them, the
    # first exactly on the edge of that order's window or one second either side.
    customer = b.customer_id()
    b.customer(customer, b.email())
    last = AS_OF - b.pick((100, 400, 700)) * DAY
    first = last - 365 * DAY + b.pick((-SECOND, SECOND * 0, SECOND))
    by_revenue = b.chance(0.5)
    b.order(customer, ordered_at=first, status="placed", total=Decimal("0.01"))
    for days in () if by_revenue else (10, 20):
        b.order(customer, ordered_at=last - days * DAY, status="placed", total=Decimal("1.00"))
    total = Decimal("499.99") if by_revenue else Decimal("1.00")
    b.order(customer, ordered_at=last, status="placed", total=total)


def case_visitors(b: StoreBuilder) -> None:
    """Anonymous browsing, identify events, and events staging must reject."""
    anonymous = b.anonymous_id()
    for _ in range(b.rng.randrange(1, 4)):
        b.event(anonymous)
    if b.chance(0.5):
        b.event(anonymous, None, b.email())
    b.event(b.anonymous_id(), None, b.invalid_email())  # a visitor, the email is dropped
    b.event(b.anonymous_id(), event_type=b.pick(BAD_EVENT_TYPES))  # rejected
    b.event(None, None, b.invalid_email(), event_type="identify")  # no identifier: rejected
    b.add(  # no event id: rejected, links nothing
        "events", anonymous_id=b.anonymous_id(), email=b.email(), event_type="identify"
    )
    event_id = f"{b.case}-e{b.next_number()}"  # same event id twice: the later one wins
    email = b.email()
    b.event(b.anonymous_id(), None, email, event_id=event_id, occurred_at=AS_OF - 2 * DAY)
    b.event(b.anonymous_id(), None, None, event_id=event_id, occurred_at=AS_OF - DAY)
    b.customer(b.customer_id(), email)


def case_messaging(b: StoreBuilder) -> None:
    """Consents and message events link an email to a phone unless staging rejects them."""
    email, phone = b.email(), b.us_phone()
    b.consent(email, phone, channel=b.pick(("email", " EMAIL ", "sms")))
    b.message(email, phone)
    email2, phone2 = b.email(), b.us_phone()
    b.consent(email2, None, channel="sms")  # sms consent without a phone: rejected
    b.add(
        "consents",
        channel="sms",
        email=email2,
        phone=b.pick(JUNK_PHONES),
        status="subscribed",
        occurred_at=AS_OF,
    )
    b.consent(email2, phone2, channel="push")  # rejected
    b.consent(email2, phone2, status="maybe")  # rejected
    b.message(email2, phone2, event_type="printed")  # rejected
    b.message(email2, phone2, channel=None)  # rejected
    b.message(None, phone2)
    gb = ("gb", b.next_number())
    b.message(b.email(), gb)  # read in US: a local GB number is no phone here
    b.order(None, None, phone2, counted=b.chance(0.5))
    if b.chance(0.5):
        b.raw["consents"].append(dict(b.raw["consents"][-1]))


def case_ties(b: StoreBuilder) -> None:
    """Buyers with identical histories: ties in last_order_at, orders_count and revenue."""
    history = [(b.when(), b.total()) for _ in range(b.rng.randrange(1, 5))]
    for _ in range(b.rng.randrange(2, 4)):
        customer = b.customer_id()
        b.customer(customer, b.email() if b.chance(0.5) else None)
        for ordered_at, total in history:
            b.order(customer, ordered_at=ordered_at, total=total, status="placed")


CASE_KINDS: dict[str, Callable[[StoreBuilder], None]] = {
    "chain": case_chain,
    "shared": case_shared_address,
    "guest": case_guest_orders,
    "customer_dupes": case_customer_duplicates,
    "order_dupes": case_order_duplicates,
    "boundaries": case_lifecycle_boundaries,
    "visitors": case_visitors,
    "messaging": case_messaging,
    "ties": case_ties,
}

CasePlan = Sequence[tuple[str, int]]


def build_store(plan: CasePlan) -> RawStore:
    """A raw store with one case per (kind, seed) of `plan`, under prefixes k00, k01, ..."""
    builder = StoreBuilder()
    for index, (kind, seed) in enumerate(plan):
        builder.begin(f"k{index:02d}", seed)
        CASE_KINDS[kind](builder)
        builder.end()
    return builder.raw


def without_case(raw: RawStore) -> dict[str, list[dict[str, Any]]]:
    return {
        name: [{k: v for k, v in row.items() if k != "_case"} for row in rows]
        for name, rows in raw.items()
    }


seeds = st.integers(min_value=0, max_value=2**32 - 1)
plans = st.tuples(
    st.lists(seeds, min_size=2 * len(CASE_KINDS), max_size=2 * len(CASE_KINDS)),
    st.lists(st.tuples(st.sampled_from(sorted(CASE_KINDS)), seeds), max_size=25),
).map(
    # every kind twice (so each example has chains, shared addresses and boundaries), plus extras
    lambda drawn: (
        [(kind, seed) for kind, seed in zip(sorted(CASE_KINDS) * 2, drawn[0], strict=True)]
        + drawn[1]
    )
)

FIXED_PLAN: CasePlan = [(kind, 1000 + i) for i, kind in enumerate(sorted(CASE_KINDS) * 3)]


def _check_store(location: str, raw: RawStore) -> Built:
    built = read_models(build_models(location))
    reference = model.compute(without_case(raw), AS_OF)
    assert_matches_reference(built, reference, raw)
    return built


# ----------------------------------------------------------------------------------------------
# Tests


@hypothesis_settings(
    max_examples=10,
    deadline=None,
    database=None,
    phases=[Phase.explicit, Phase.generate],  # no shrinking: every example is a dbt build
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
    ],
)
@given(plan=plans)
def test_models_match_the_reference_on_adversarial_stores(plan: CasePlan, tmp_path: Path) -> None:
    note(f"plan: {plan}")
    raw = build_store(plan)
    location = str(tmp_path / f"{uuid.uuid4().hex}.duckdb")
    write_raw_duckdb(location, without_case(raw))
    _check_store(location, raw)


def test_the_adversarial_stores_reach_every_rule() -> None:
    """The generator is only useful if it hits the rules: check the fixed plan's reference."""
    reference = model.compute(without_case(build_store(FIXED_PLAN)), AS_OF)
    stages = {row.lifecycle_stage for row in reference.lifecycle.values()}
    assert stages == set(model.STAGES)
    assert {row.rfm_tier for row in reference.rfm.values()} >= {"champions", "lost", "loyal"}
    assert {kind for kind, _ in reference.shared} == {"email", "phone"}
    assert any(
        row.was_ever_vip and row.lifecycle_stage != "vip" for row in reference.lifecycle.values()
    )
    sizes = [len(group) for group in reference.partition()]
    assert max(sizes) >= 6
    last_orders = {row.last_order_at for row in reference.lifecycle.values()}
    assert set(BOUNDARY_TIMES) - {AS_OF + SECOND} <= last_orders


def test_models_match_the_reference_on_the_synthetic_store(duckdb_url: str) -> None:
    synthetic = pytest.importorskip("activations.synthetic")
    tables: dict[str, pa.Table] = synthetic.generate_store(2000, seed=11, until=AS_OF)
    write_raw_duckdb(duckdb_url, tables)
    built = read_models(build_models(duckdb_url))
    raw = {name: table.to_pylist() for name, table in tables.items() if name in RAW_TABLES_BY_NAME}
    reference = model.compute(raw, AS_OF)
    assert_matches_reference(built, reference)
    # The store is realistic: every stage and most tiers occur, so the comparison means something.
    assert {row.lifecycle_stage for row in built.lifecycle.values()} == set(model.STAGES)
    assert len({row.rfm_tier for row in built.rfm.values()}) >= 7


TINY_STORES: dict[str, RawStore] = {
    "empty": {},
    "one_buyer": {  # percent_rank over a single row is 0: every score 1, tier lost
        "orders": [
            {
                "order_id": "o1",
                "email": " Solo@Example.com ",
                "ordered_at": AS_OF,
                "total": Decimal("5.00"),
                "status": "placed",
            }
        ],
        "events": [
            {
                "event_id": "e1",
                "anonymous_id": "a1",
                "event_type": "page_view",
                "occurred_at": AS_OF,
            }
        ],
    },
}


@pytest.mark.parametrize("name", sorted(TINY_STORES))
def test_tiny_stores_match_the_reference(name: str, duckdb_url: str) -> None:
    raw = TINY_STORES[name]
    write_raw_duckdb(duckdb_url, raw)
    built = read_models(build_models(duckdb_url))
    assert_matches_reference(built, model.compute(raw, AS_OF))
    assert len(built.rfm) == (1 if name == "one_buyer" else 0)


@pytest.mark.postgres
def test_duckdb_and_postgres_build_identical_models(duckdb_url: str, postgres_url: str) -> None:
    raw = build_store(FIXED_PLAN)
    write_raw_duckdb(duckdb_url, without_case(raw))
    write_raw_postgres(postgres_url, without_case(raw))
    on_duckdb = _check_store(duckdb_url, raw)
    on_postgres = _check_store(postgres_url, raw)
    assert differences(on_postgres, on_duckdb) == []


@pytest.fixture
def postgres_icu_url(postgres_server_url: str) -> Iterator[str]:
    """A database whose default collation is ICU en-US, as many PostgreSQL installs have, where
    'alice-2' sorts before 'Zed-1' (bytewise, 'Z' comes first)."""
    options = "template template0 locale_provider icu icu_locale 'en-US' locale 'C'"
    with temporary_database(postgres_server_url, options) as url:
        yield url


@pytest.mark.postgres
def test_person_ids_do_not_depend_on_the_database_collation(
    duckdb_url: str, postgres_icu_url: str
) -> None:
    raw = without_case(build_store(FIXED_PLAN))
    raw["customers"].append(
        {"customer_id": "Zed-1", "email": "same@example.com", "created_at": AS_OF - DAY}
    )
    raw["orders"].append(
        {
            "order_id": "icu-o1",
            "customer_id": "alice-2",
            "email": "same@example.com",
            "ordered_at": AS_OF - DAY,
            "total": Decimal("10.00"),
            "currency": "USD",
            "status": "placed",
        }
    )
    write_raw_duckdb(duckdb_url, raw)
    write_raw_postgres(postgres_icu_url, raw)
    on_duckdb = read_models(build_models(duckdb_url))
    on_icu = read_models(build_models(postgres_icu_url))
    zed = on_duckdb.identifiers[("customer_id", "Zed-1")]
    assert zed == on_duckdb.identifiers[("customer_id", "alice-2")]
    assert on_icu.identifiers[("customer_id", "alice-2")] == zed
    assert differences(on_icu, on_duckdb) == []
