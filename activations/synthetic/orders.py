"""The `orders` and `order_items` tables, priced line by line.

Lines are priced before the order row is written, so every order total is exactly the sum of its
lines plus 5.99 shipping under 50 (all money is USD): revenue models can be checked to the cent.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from activations.raw_contract import ORDER_STATUSES
from activations.synthetic.arrays import (
    coded_ids,
    decimal_from_cents,
    expand,
    normal_cdf,
    take_or_null,
    timestamps,
    vocabulary,
    with_copies,
)
from activations.synthetic.contacts import Contacts
from activations.synthetic.customers import Accounts
from activations.synthetic.persons import REGISTERED, Population
from activations.synthetic.products import Catalogue
from activations.synthetic.purchases import Purchases
from activations.synthetic.regions import NANP_COUNTRIES
from activations.synthetic.run import Run


@dataclass(frozen=True)
class OrderLines:
    """Order lines in order then line-number order, and what they add up to per order."""

    order: np.ndarray  # per line: order index
    rank: np.ndarray  # per line: line number - 1
    product: np.ndarray  # per line: product index
    quantity: np.ndarray
    price: np.ndarray  # per line: unit price in cents, after discount
    start: np.ndarray  # per order: index of its first line
    count: np.ndarray  # per order: number of lines
    total: np.ndarray  # per order: cents, lines + shipping


@dataclass(frozen=True)
class Orders:
    """What later tables need from the orders: their ids and lines."""

    ids: pa.Array
    lines: OrderLines


def build_orders(
    run: Run,
    population: Population,
    contacts: Contacts,
    accounts: Accounts,
    catalogue: Catalogue,
    purchases: Purchases,
) -> tuple[Orders, pa.Table]:
    """Orders (with lines priced now, so totals equal the lines plus shipping)."""
    rng, dirty = run.rng, run.dirty
    m = purchases.time.size
    person = purchases.person
    registered = population.kind[person] == REGISTERED
    guest_checkout = registered & (rng.random(m) < dirty.guest_checkout_by_customer)
    lines = _draw_lines(rng, purchases, catalogue)
    status = rng.choice(
        3,
        size=m,
        p=[
            1 - dirty.cancelled_orders - dirty.refunded_orders,
            dirty.cancelled_orders,
            dirty.refunded_orders,
        ],
    )
    has_email = contacts.email_pos[person] >= 0
    has_phone = contacts.phone_pos[person] >= 0
    email_present = has_email & ((rng.random(m) < 0.97) | ~has_phone)
    phone_present = has_phone & ((rng.random(m) < 0.35) | ~email_present)
    email = contacts.typed_emails(
        rng,
        person,
        email_present,
        case=dirty.email_case_or_padding,
        invalid=dirty.invalid_email,
    )
    phone = contacts.typed_phones(
        rng,
        person,
        phone_present,
        local_ok=np.isin(population.country[person], NANP_COUNTRIES),
        junk=dirty.junk_phone,
    )
    width = max(8, len(str(m)))
    ids = coded_ids("ord_", np.arange(1, m + 1), width)
    customer = np.where(guest_checkout, -1, accounts.row[person])
    table = pa.table(
        {
            "order_id": ids,
            "customer_id": take_or_null(accounts.ids, customer),
            "email": email,
            "phone": phone,
            "ordered_at": timestamps(purchases.time),
            "total": decimal_from_cents(lines.total),
            "currency": pa.array(np.full(m, "USD"), type=pa.string()),
            "status": vocabulary(ORDER_STATUSES).take(pa.array(status)),
        }
    )
    rows = with_copies(rng, m, dirty.duplicate_rows)
    return Orders(ids=ids, lines=lines), table.take(pa.array(rows))


def build_order_items(orders: Orders, catalogue: Catalogue) -> pa.Table:
    """One row per order line, written as the shop's database holds them (no dirt)."""
    lines = orders.lines
    return pa.table(
        {
            "order_id": orders.ids.take(pa.array(lines.order)),
            "line_number": pa.array(lines.rank + 1, type=pa.int64()),
            "product_id": catalogue.ids.take(pa.array(lines.product)),
            "quantity": pa.array(lines.quantity, type=pa.int64()),
            "unit_price": decimal_from_cents(lines.price),
        }
    )


def _draw_lines(rng: np.random.Generator, purchases: Purchases, catalogue: Catalogue) -> OrderLines:
    """Order lines: pricier products and more lines for big spenders; habit product first."""
    m = purchases.time.size
    buyer = purchases.buyer
    spend = purchases.spend[buyer]
    habit = purchases.habit_product[buyer]
    lines = 1 + rng.poisson(0.45 + 0.3 * np.maximum(spend, 0.0))
    lines = np.minimum(lines, 8)
    order, rank = expand(lines)
    k = order.size
    # Marginally popularity-weighted, but correlated with the buyer's spend level.
    u = normal_cdf(0.5 * spend[order] + math.sqrt(0.75) * rng.standard_normal(k))
    position = np.minimum(np.searchsorted(catalogue.price_cdf, u), catalogue.by_price.size - 1)
    product = catalogue.by_price[position]
    first_habit = (rank == 0) & (habit[order] >= 0)
    product = np.where(first_habit, habit[order], product)
    repeated = (rank > 0) & (product == np.roll(product, 1))
    product = np.where(repeated, (product + 1) % catalogue.price.size, product)
    quantity = rng.choice([1, 2, 3, 4, 6], size=k, p=[0.8, 0.13, 0.04, 0.02, 0.01])
    quantity = np.where(first_habit & (rng.random(k) < 0.25), 2, quantity)
    discount = rng.choice([100, 90, 80], size=k, p=[0.85, 0.1, 0.05])
    unit = catalogue.price[product] * discount // 100
    subtotal = np.bincount(order, weights=unit * quantity, minlength=m).astype(np.int64)
    return OrderLines(
        order=order,
        rank=rank,
        product=product,
        quantity=quantity.astype(np.int64),
        price=unit.astype(np.int64),
        start=np.cumsum(lines) - lines,
        count=lines,
        total=subtotal + np.where(subtotal < 5000, 599, 0),
    )
