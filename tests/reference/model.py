"""A plain-Python reference of staging, identity, lifecycle and RFM (DESIGN §3-§4), no SQL.

It restates what the dbt models compute, in the most direct way the rules allow, so a property
test can build random raw data with dbt and compare every person, stage and score with this:

* staging (dbt_project/models/staging/checks): emails trimmed of spaces, lowercased and validated;
  phones through `activations.phones.to_e164` in the customer's country (else the default region);
  one row kept per key (the first in the SQL's window order) and rows rejected for the same
  reasons, in the same order, as the `*__checked` models;
* identity (models/identity): union-find over the identifier tuples of every accepted row, with
  the shared-identifier guard; person_id = 'p_' + md5(smallest node_key)[:20];
* lifecycle (models/lifecycle): orders attributed by customer_id, else email, else phone; stages
  in DESIGN order with the strict "before" boundaries and the inclusive VIP window;
* RFM (models/rfm): percent_rank = (rank - 1) / (n - 1) (0 when n == 1), rank = 1 + the number of
  strictly smaller values, score = min(5, 1 + floor(5 * percent_rank)), FM = (F + M) // 2.

Raw rows are plain dicts (one list per raw table, columns as in activations/raw_contract.py);
missing columns read as None. Strings compare by code point, as DuckDB and PostgreSQL with the C
collation compare them.
"""

from __future__ import annotations

import hashlib
import math
import re
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from activations.phones import to_e164
from activations.raw_contract import (
    CONSENT_STATUSES,
    EVENT_TYPES,
    MESSAGE_CHANNELS,
    MESSAGE_EVENT_TYPES,
    ORDER_STATUSES,
)

Row = Mapping[str, Any]
RawTables = Mapping[str, Sequence[Row]]
Identifier = tuple[str, str]  # (identifier_type, identifier_value)

EMAIL_PATTERN = re.compile(r"[A-Za-z0-9._%+'-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}")
CHANNELS = MESSAGE_CHANNELS
NODE_KEY_PREFIX = {"customer_id": "1", "email": "2", "phone": "3", "anonymous_id": "4"}
IDENTIFIER_TYPES = tuple(NODE_KEY_PREFIX)
STAGES = ("visitor", "prospect", "churned", "lapsed", "vip", "repeat", "new")
TIERS = (
    "champions",
    "loyal",
    "recent",
    "needs_nurturing",
    "cant_lose",
    "at_risk",
    "about_to_lose",
    "hibernating",
    "lost",
)


@dataclass(frozen=True)
class Config:
    """The dbt vars the reference depends on, with the project's defaults."""

    default_phone_region: str = "US"
    identity_max_customers: int = 5
    churn_days: int = 365
    lapse_days: int = 90
    vip_min_orders: int = 4
    vip_min_revenue: Decimal = Decimal("500")
    vip_window_days: int = 365


DEFAULT_CONFIG = Config()


# ----------------------------------------------------------------------------------------------
# Normalisation (macros/normalise.sql)


def clean_text(value: str | None) -> str | None:
    """nullif(trim(value), ''): SQL trim removes spaces only, not tabs or newlines."""
    if value is None:
        return None
    return value.strip(" ") or None


def clean_email(value: str | None) -> str | None:
    """nullif(trim(value), '')."""
    if value is None:
        return None
    return value.strip(" ") or None


def normalise_email(value: str | None) -> str | None:
    """The trimmed email lowercased when it fully matches the (ASCII) address pattern, else None."""
    cleaned = clean_email(value)
    if cleaned is None or EMAIL_PATTERN.fullmatch(cleaned) is None:
        return None
    return cleaned.lower()


def phone_region(country: str | None, default_region: str) -> str:
    """upper(trim(country)), else the default region."""
    cleaned = clean_text(country)
    return cleaned.upper() if cleaned is not None else default_region


def normalise_phone(raw: str | None, region: str) -> str | None:
    """E.164 of the raw phone read in `region`; None when blank or not a valid number.

    The lookup stores the raw text untrimmed, so phonenumbers sees exactly what was loaded.
    """
    if clean_text(raw) is None:
        return None
    assert raw is not None
    return to_e164(raw, region)


def _lower_clean(value: str | None) -> str | None:
    cleaned = clean_text(value)
    return cleaned.lower() if cleaned is not None else None


def _upper_clean(value: str | None) -> str | None:
    cleaned = clean_text(value)
    return cleaned.upper() if cleaned is not None else None


# ----------------------------------------------------------------------------------------------
# Window ordering: ORDER BY with NULLS LAST in both directions, as the staging models write it


OrderKey = tuple[Callable[[dict[str, Any]], Any], bool]  # (value of a row, descending)


def _order_by(rows: Iterable[dict[str, Any]], keys: Sequence[OrderKey]) -> list[dict[str, Any]]:
    """Rows sorted by `keys` (first key most significant), nulls last whatever the direction."""
    ordered = list(rows)
    for value, descending in reversed(keys):  # stable sorts, least significant key first
        ordered.sort(key=_nulls_last(value, descending), reverse=descending)
    return ordered


def _nulls_last(
    value: Callable[[dict[str, Any]], Any], descending: bool
) -> Callable[[dict[str, Any]], Any]:
    """A sort key putting nulls after every value; with reverse=True the flag is flipped."""

    def key(row: dict[str, Any]) -> Any:
        item = value(row)
        return ((item is not None) if descending else (item is None), _sortable(item))

    return key


class _Null:
    """Stands in for None inside sort keys (all nulls are equal and never compared to values)."""

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _Null)

    def __lt__(self, other: object) -> bool:
        return False

    def __hash__(self) -> int:
        return 0


_NULL = _Null()


def _sortable(value: Any) -> Any:
    return _NULL if value is None else value


def _first_per_key(
    rows: Iterable[dict[str, Any]], key: Callable[[dict[str, Any]], Any], order: Sequence[OrderKey]
) -> list[dict[str, Any]]:
    """row_number() over (partition by key order by ...) = 1 sets copy_number on every row."""
    groups: dict[Any, list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        groups[key(row)].append(row)
    out: list[dict[str, Any]] = []
    for group in groups.values():
        for number, row in enumerate(_order_by(group, order), start=1):
            row["copy_number"] = number
            out.append(row)
    return out


def _col(name: str) -> Callable[[dict[str, Any]], Any]:
    return lambda row: row[name]


# ----------------------------------------------------------------------------------------------
# Staging (models/staging/checks/*.sql): every raw row with its reject reason


def check_customers(rows: Sequence[Row], config: Config = DEFAULT_CONFIG) -> list[dict[str, Any]]:
    normalised = []
    for raw in rows:
        country = _upper_clean(raw.get("country"))
        region = country or config.default_phone_region
        normalised.append(
            {
                "customer_id": clean_text(raw.get("customer_id")),
                "email": normalise_email(raw.get("email")),
                "phone": normalise_phone(raw.get("phone"), region),
                "first_name": clean_text(raw.get("first_name")),
                "last_name": clean_text(raw.get("last_name")),
                "country": country,
                "timezone": clean_text(raw.get("timezone")),
                "created_at": raw.get("created_at"),
            }
        )
    order: list[OrderKey] = [
        (_col("created_at"), True),
        (_col("email"), False),
        (_col("phone"), False),
        (_col("first_name"), False),
        (_col("last_name"), False),
        (_col("country"), False),
    ]
    checked = _first_per_key(normalised, _col("customer_id"), order)
    for row in checked:
        if row["customer_id"] is None:
            row["reject_reason"] = "missing_key"
        elif row["copy_number"] > 1:
            row["reject_reason"] = "duplicate_key"
        else:
            row["reject_reason"] = None
    return checked


def check_orders(
    rows: Sequence[Row],
    customers: Mapping[str, Mapping[str, Any]],
    config: Config = DEFAULT_CONFIG,
) -> list[dict[str, Any]]:
    """`customers` are the accepted customers by id: an order's phone is read in their country."""
    normalised = []
    for raw in rows:
        customer_id = clean_text(raw.get("customer_id"))
        customer = customers.get(customer_id) if customer_id is not None else None
        country = customer["country"] if customer is not None else None
        region = country or config.default_phone_region
        normalised.append(
            {
                "order_id": clean_text(raw.get("order_id")),
                "customer_id": customer_id,
                "email": normalise_email(raw.get("email")),
                "phone": normalise_phone(raw.get("phone"), region),
                "total": raw.get("total"),
                "currency": _upper_clean(raw.get("currency")),
                "status": _lower_clean(raw.get("status")),
                "ordered_at": raw.get("ordered_at"),
            }
        )
    order: list[OrderKey] = [
        (_col("ordered_at"), True),
        (_col("status"), False),
        (_col("total"), True),
        (_col("customer_id"), False),
        (_col("email"), False),
        (_col("phone"), False),
    ]
    checked = _first_per_key(normalised, _col("order_id"), order)
    for row in checked:
        if row["order_id"] is None:
            reason = "missing_key"
        elif row["copy_number"] > 1:
            reason = "duplicate_key"
        elif row["status"] not in ORDER_STATUSES:
            reason = "unknown_status"
        elif row["ordered_at"] is None:
            reason = "missing_timestamp"
        elif row["total"] is None:
            reason = "missing_total"
        elif row["customer_id"] is None and row["email"] is None and row["phone"] is None:
            reason = "no_identifier"
        else:
            reason = None
        row["reject_reason"] = reason
    return checked


def check_events(rows: Sequence[Row], config: Config = DEFAULT_CONFIG) -> list[dict[str, Any]]:
    normalised = [
        {
            "event_id": clean_text(raw.get("event_id")),
            "anonymous_id": clean_text(raw.get("anonymous_id")),
            "customer_id": clean_text(raw.get("customer_id")),
            "product_id": clean_text(raw.get("product_id")),
            "email": normalise_email(raw.get("email")),
            "event_type": _lower_clean(raw.get("event_type")),
            "occurred_at": raw.get("occurred_at"),
        }
        for raw in rows
    ]
    order: list[OrderKey] = [
        (_col("occurred_at"), True),
        (_col("event_type"), False),
        (_col("anonymous_id"), False),
        (_col("customer_id"), False),
        (_col("email"), False),
        (_col("product_id"), False),
    ]
    checked = _first_per_key(normalised, _col("event_id"), order)
    for row in checked:
        if row["event_id"] is None:
            reason = "missing_key"
        elif row["copy_number"] > 1:
            reason = "duplicate_key"
        elif row["event_type"] not in EVENT_TYPES:
            reason = "unknown_event_type"
        elif row["occurred_at"] is None:
            reason = "missing_timestamp"
        elif row["anonymous_id"] is None and row["customer_id"] is None and row["email"] is None:
            reason = "no_identifier"
        else:
            reason = None
        row["reject_reason"] = reason
    return checked


def check_consents(rows: Sequence[Row], config: Config = DEFAULT_CONFIG) -> list[dict[str, Any]]:
    normalised = [
        {
            "channel": _lower_clean(raw.get("channel")),
            "email": normalise_email(raw.get("email")),
            "phone": normalise_phone(raw.get("phone"), config.default_phone_region),
            "status": _lower_clean(raw.get("status")),
            "occurred_at": raw.get("occurred_at"),
            "source": clean_text(raw.get("source")),
        }
        for raw in rows
    ]
    columns = ("channel", "email", "phone", "status", "occurred_at", "source")
    checked = _first_per_key(normalised, lambda r: tuple(r[c] for c in columns), [])
    for row in checked:
        if row["copy_number"] > 1:
            reason = "duplicate_row"
        elif row["channel"] not in CHANNELS:
            reason = "unknown_channel"
        elif row["status"] not in CONSENT_STATUSES:
            reason = "unknown_status"
        elif row["occurred_at"] is None:
            reason = "missing_timestamp"
        elif row["channel"] == "email" and row["email"] is None:
            reason = "no_identifier"
        elif row["channel"] == "sms" and row["phone"] is None:
            reason = "no_identifier"
        else:
            reason = None
        row["reject_reason"] = reason
    return checked


def check_message_events(
    rows: Sequence[Row], config: Config = DEFAULT_CONFIG
) -> list[dict[str, Any]]:
    normalised = [
        {
            "message_id": clean_text(raw.get("message_id")),
            "channel": _lower_clean(raw.get("channel")),
            "email": normalise_email(raw.get("email")),
            "phone": normalise_phone(raw.get("phone"), config.default_phone_region),
            "event_type": _lower_clean(raw.get("event_type")),
            "campaign": clean_text(raw.get("campaign")),
            "occurred_at": raw.get("occurred_at"),
        }
        for raw in rows
    ]
    columns = ("message_id", "channel", "event_type", "occurred_at", "email", "phone", "campaign")
    checked = _first_per_key(normalised, lambda r: tuple(r[c] for c in columns), [])
    for row in checked:
        if row["copy_number"] > 1:
            reason = "duplicate_row"
        elif row["channel"] not in CHANNELS:
            reason = "unknown_channel"
        elif row["event_type"] not in MESSAGE_EVENT_TYPES:
            reason = "unknown_event_type"
        elif row["occurred_at"] is None:
            reason = "missing_timestamp"
        elif row["email"] is None and row["phone"] is None:
            reason = "no_identifier"
        else:
            reason = None
        row["reject_reason"] = reason
    return checked


@dataclass(frozen=True)
class Staged:
    """Accepted (reject_reason null) staging rows per table."""

    customers: list[dict[str, Any]]
    orders: list[dict[str, Any]]
    events: list[dict[str, Any]]
    consents: list[dict[str, Any]]
    message_events: list[dict[str, Any]]


def _accepted(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [row for row in rows if row["reject_reason"] is None]


def stage(raw: RawTables, config: Config = DEFAULT_CONFIG) -> Staged:
    """Staging as the stg_* models see it: normalised, deduplicated, rejected rows dropped."""
    customers = _accepted(check_customers(raw.get("customers", ()), config))
    by_id = {row["customer_id"]: row for row in customers}
    return Staged(
        customers=customers,
        orders=_accepted(check_orders(raw.get("orders", ()), by_id, config)),
        events=_accepted(check_events(raw.get("events", ()), config)),
        consents=_accepted(check_consents(raw.get("consents", ()), config)),
        message_events=_accepted(check_message_events(raw.get("message_events", ()), config)),
    )


# ----------------------------------------------------------------------------------------------
# Identity (models/identity/*.sql)

IdentityTuple = tuple[
    str | None, str | None, str | None, str | None
]  # customer, email, phone, anon


def identity_tuples(staged: Staged) -> set[IdentityTuple]:
    """Distinct identifier combinations seen together on one accepted row."""
    tuples: set[IdentityTuple] = set()
    for row in staged.customers:
        tuples.add((row["customer_id"], row["email"], row["phone"], None))
    for row in staged.orders:
        tuples.add((row["customer_id"], row["email"], row["phone"], None))
    for row in staged.events:
        tuples.add((row["customer_id"], row["email"], None, row["anonymous_id"]))
    for row in staged.consents:
        tuples.add((None, row["email"], row["phone"], None))
    for row in staged.message_events:
        tuples.add((None, row["email"], row["phone"], None))
    return {t for t in tuples if any(value is not None for value in t)}


def shared_identifiers(tuples: Iterable[IdentityTuple], max_customers: int) -> set[Identifier]:
    """Emails and phones co-occurring with more than `max_customers` distinct customer ids."""
    customers: dict[Identifier, set[str]] = defaultdict(set)
    for customer_id, email, phone, _ in tuples:
        if customer_id is None:
            continue
        if email is not None:
            customers[("email", email)].add(customer_id)
        if phone is not None:
            customers[("phone", phone)].add(customer_id)
    return {key for key, ids in customers.items() if len(ids) > max_customers}


def node_key(identifier: Identifier) -> str:
    identifier_type, value = identifier
    return f"{NODE_KEY_PREFIX[identifier_type]}:{value}"


def person_id_for(anchor_key: str) -> str:
    return "p_" + hashlib.md5(anchor_key.encode("utf-8")).hexdigest()[:20]


class _UnionFind:
    def __init__(self) -> None:
        self.parent: dict[Identifier, Identifier] = {}

    def add(self, item: Identifier) -> None:
        self.parent.setdefault(item, item)

    def find(self, item: Identifier) -> Identifier:
        root = item
        while self.parent[root] != root:
            root = self.parent[root]
        while self.parent[item] != root:
            self.parent[item], item = root, self.parent[item]
        return root

    def union(self, a: Identifier, b: Identifier) -> None:
        root_a, root_b = self.find(a), self.find(b)
        if root_a != root_b:
            self.parent[root_b] = root_a


def resolve_identity(
    tuples: Iterable[IdentityTuple], max_customers: int = DEFAULT_CONFIG.identity_max_customers
) -> dict[Identifier, str]:
    """Every identifier -> person_id: connected components of the tuples, shared ones isolated."""
    tuples = list(tuples)
    shared = shared_identifiers(tuples, max_customers)
    forest = _UnionFind()
    for values in tuples:
        members = [
            (identifier_type, value)
            for identifier_type, value in zip(IDENTIFIER_TYPES, values, strict=True)
            if value is not None
        ]
        for member in members:
            forest.add(member)
        usable = [member for member in members if member not in shared]
        for member in usable[1:]:
            forest.union(usable[0], member)
    components: dict[Identifier, list[Identifier]] = defaultdict(list)
    for identifier in forest.parent:
        components[forest.find(identifier)].append(identifier)
    persons: dict[Identifier, str] = {}
    for members in components.values():
        person_id = person_id_for(min(node_key(member) for member in members))
        for member in members:
            persons[member] = person_id
    return persons


# ----------------------------------------------------------------------------------------------
# Lifecycle (models/lifecycle/*.sql) and RFM (models/rfm/person_rfm.sql)


@dataclass(frozen=True)
class Lifecycle:
    lifecycle_stage: str
    orders_count: int
    revenue: Decimal
    first_order_at: datetime | None
    last_order_at: datetime | None
    orders_last_year: int
    revenue_last_year: Decimal
    was_ever_vip: bool


@dataclass(frozen=True)
class Rfm:
    recency_score: int
    frequency_score: int
    monetary_score: int
    frequency_monetary_score: int
    rfm_tier: str


@dataclass(frozen=True)
class CountedOrder:
    order_id: str
    person_id: str
    total: Decimal
    ordered_at: datetime


def attribute_orders(
    orders: Iterable[Mapping[str, Any]], persons: Mapping[Identifier, str], as_of: datetime
) -> list[CountedOrder]:
    """Placed orders at or before as_of, each with the person of its customer id, email or phone."""
    counted = []
    for order in orders:
        if order["status"] != "placed" or order["ordered_at"] > as_of:
            continue
        if order["customer_id"] is not None:
            person_id = persons[("customer_id", order["customer_id"])]
        elif order["email"] is not None:
            person_id = persons[("email", order["email"])]
        else:
            person_id = persons[("phone", order["phone"])]
        counted.append(
            CountedOrder(order["order_id"], person_id, Decimal(order["total"]), order["ordered_at"])
        )
    return counted


def _was_ever_vip(orders: Sequence[CountedOrder], config: Config) -> bool:
    """Did the VIP rule hold at some order, counting orders in the window ending at it (peers
    with the same timestamp included, as RANGE ... CURRENT ROW does)?"""
    window = timedelta(days=config.vip_window_days)
    for order in orders:
        inside = [
            o for o in orders if order.ordered_at - window <= o.ordered_at <= order.ordered_at
        ]
        revenue = sum((o.total for o in inside), Decimal(0))
        if len(inside) >= config.vip_min_orders or revenue >= config.vip_min_revenue:
            return True
    return False


def lifecycle_stage(
    *,
    is_known: bool,
    orders_count: int,
    last_order_at: datetime | None,
    orders_last_year: int,
    revenue_last_year: Decimal,
    as_of: datetime,
    config: Config = DEFAULT_CONFIG,
) -> str:
    if not is_known:
        return "visitor"
    if orders_count == 0:
        return "prospect"
    assert last_order_at is not None
    if last_order_at < as_of - timedelta(days=config.churn_days):
        return "churned"
    if last_order_at < as_of - timedelta(days=config.lapse_days):
        return "lapsed"
    if orders_last_year >= config.vip_min_orders or revenue_last_year >= config.vip_min_revenue:
        return "vip"
    if orders_count >= 2:
        return "repeat"
    return "new"


def is_known(persons: Mapping[Identifier, str]) -> dict[str, bool]:
    """dim_person.is_known: the person has a customer id, email or phone."""
    known: dict[str, bool] = defaultdict(bool)
    for (identifier_type, _), person_id in persons.items():
        known[person_id] |= identifier_type != "anonymous_id"
    return dict(known)


def lifecycle(
    persons: Mapping[Identifier, str],
    counted: Sequence[CountedOrder],
    as_of: datetime,
    config: Config = DEFAULT_CONFIG,
) -> dict[str, Lifecycle]:
    """person_lifecycle: one row per person in dim_person."""
    known = is_known(persons)
    by_person: dict[str, list[CountedOrder]] = defaultdict(list)
    for order in counted:
        by_person[order.person_id].append(order)
    window_start = as_of - timedelta(days=config.vip_window_days)
    out: dict[str, Lifecycle] = {}
    for person_id, known_person in known.items():
        orders = by_person.get(person_id, [])
        recent = [o for o in orders if o.ordered_at >= window_start]
        last_order_at = max((o.ordered_at for o in orders), default=None)
        orders_last_year = len(recent)
        revenue_last_year = sum((o.total for o in recent), Decimal(0))
        out[person_id] = Lifecycle(
            lifecycle_stage=lifecycle_stage(
                is_known=known_person,
                orders_count=len(orders),
                last_order_at=last_order_at,
                orders_last_year=orders_last_year,
                revenue_last_year=revenue_last_year,
                as_of=as_of,
                config=config,
            ),
            orders_count=len(orders),
            revenue=sum((o.total for o in orders), Decimal(0)),
            first_order_at=min((o.ordered_at for o in orders), default=None),
            last_order_at=last_order_at,
            orders_last_year=orders_last_year,
            revenue_last_year=revenue_last_year,
            was_ever_vip=_was_ever_vip(orders, config),
        )
    return out


def percent_ranks(values: Mapping[str, Any]) -> dict[str, float]:
    """percent_rank() over (order by value): (rank - 1) / (n - 1), ties share the lowest rank."""
    n = len(values)
    ordered = sorted(values.values())
    ranks: dict[str, float] = {}
    for key, value in values.items():
        smaller = _count_smaller(ordered, value)
        ranks[key] = 0.0 if n == 1 else smaller / (n - 1)
    return ranks


def _count_smaller(ordered: list[Any], value: Any) -> int:
    low, high = 0, len(ordered)
    while low < high:
        middle = (low + high) // 2
        if ordered[middle] < value:
            low = middle + 1
        else:
            high = middle
    return low


def score(rank: float) -> int:
    return min(5, 1 + math.floor(5 * rank))


def rfm_tier(recency: int, frequency_monetary: int) -> str:
    r, fm = recency, frequency_monetary
    if r >= 4 and fm >= 4:
        return "champions"
    if r >= 3 and fm >= 3:
        return "loyal"
    if r >= 4:
        return "recent"
    if r == 3:
        return "needs_nurturing"
    if fm >= 4:
        return "cant_lose"
    if r == 2 and fm >= 2:
        return "at_risk"
    if r == 2:
        return "about_to_lose"
    if fm >= 2:
        return "hibernating"
    return "lost"


def rfm(lifecycles: Mapping[str, Lifecycle]) -> dict[str, Rfm]:
    """person_rfm over the persons with at least one counted order."""
    buyers = {p: row for p, row in lifecycles.items() if row.orders_count >= 1}
    recency = percent_ranks({p: row.last_order_at for p, row in buyers.items()})
    frequency = percent_ranks({p: row.orders_count for p, row in buyers.items()})
    monetary = percent_ranks({p: row.revenue for p, row in buyers.items()})
    out = {}
    for person_id in buyers:
        r, f, m = score(recency[person_id]), score(frequency[person_id]), score(monetary[person_id])
        fm = (f + m) // 2
        out[person_id] = Rfm(r, f, m, fm, rfm_tier(r, fm))
    return out


# ----------------------------------------------------------------------------------------------
# Everything at once


@dataclass(frozen=True)
class Reference:
    """What the models should contain for one raw dataset."""

    staged: Staged
    identifiers: dict[Identifier, str]  # person_identifiers
    is_known: dict[str, bool]  # dim_person
    orders: list[CountedOrder]  # int_orders__attributed
    lifecycle: dict[str, Lifecycle]  # person_lifecycle
    rfm: dict[str, Rfm]  # person_rfm
    shared: set[Identifier] = field(default_factory=set)

    def partition(self) -> set[frozenset[Identifier]]:
        return partition_of(self.identifiers)


def partition_of(identifiers: Mapping[Identifier, str]) -> set[frozenset[Identifier]]:
    """The persons as sets of identifiers, whatever their ids."""
    members: dict[str, set[Identifier]] = defaultdict(set)
    for identifier, person_id in identifiers.items():
        members[person_id].add(identifier)
    return {frozenset(group) for group in members.values()}


def compute(raw: RawTables, as_of: datetime, config: Config = DEFAULT_CONFIG) -> Reference:
    """Staging, identity, lifecycle and RFM for `raw` (one list of dict rows per raw table)."""
    staged = stage(raw, config)
    tuples = identity_tuples(staged)
    identifiers = resolve_identity(tuples, config.identity_max_customers)
    counted = attribute_orders(staged.orders, identifiers, as_of)
    lifecycles = lifecycle(identifiers, counted, as_of, config)
    return Reference(
        staged=staged,
        identifiers=identifiers,
        is_known=is_known(identifiers),
        orders=counted,
        lifecycle=lifecycles,
        rfm=rfm(lifecycles),
        shared=shared_identifiers(tuples, config.identity_max_customers),
    )
