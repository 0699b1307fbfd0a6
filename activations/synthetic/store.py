"""Generating a store: every table step, run once each in a fixed order over one random stream.

The steps share one `numpy.random.Generator`, so the order in which they draw is part of the
output: changing it changes every table after it. That is why `_StoreBuilder.build` is the only
place that calls the table modules, and why each step runs exactly once.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

import numpy as np
import pyarrow as pa

from activations.raw_contract import (
    DECIMAL_PRECISION,
    DECIMAL_SCALE,
    RAW_TABLES,
    RAW_TABLES_BY_NAME,
    LogicalType,
)
from activations.synthetic.consents import build_consents
from activations.synthetic.contacts import Contacts, draw_contacts
from activations.synthetic.customers import Accounts, build_customers
from activations.synthetic.events import build_events
from activations.synthetic.messages import ReplyOptOuts, build_message_events
from activations.synthetic.orders import Orders, build_order_items, build_orders
from activations.synthetic.persons import Population, draw_population
from activations.synthetic.products import Catalogue, build_products
from activations.synthetic.purchases import (
    OrderHistory,
    Purchases,
    order_history,
    simulate_purchases,
)
from activations.synthetic.rates import DIRTY_RATES, DirtyRates
from activations.synthetic.run import Run
from activations.synthetic.subscriptions import Subscriptions, draw_subscriptions
from activations.synthetic.truth import TRUTH_TABLE, build_truth

_ARROW_TYPES: dict[LogicalType, pa.DataType] = {
    "text": pa.string(),
    "timestamp": pa.timestamp("us"),
    "decimal": pa.decimal128(DECIMAL_PRECISION, DECIMAL_SCALE),
    "integer": pa.int64(),
}


def generate_store(
    persons: int,
    seed: int,
    until: datetime,
    *,
    progress: Callable[[str], None] | None = None,
    with_truth: bool = False,
    dirty: DirtyRates = DIRTY_RATES,
) -> dict[str, pa.Table]:
    """Generate one store: a pyarrow.Table per RAW_TABLES entry, in contract column order/types.

    Types: text -> pa.string(), timestamp -> pa.timestamp('us') (naive UTC), decimal ->
    pa.decimal128(18, 2), integer -> pa.int64(). The same arguments give byte-identical tables.

    Args:
        persons: how many people to simulate (at least 1).
        seed: seed of the one random stream; same seed, same store.
        until: end of the ~3-year history (a naive datetime is taken as UTC); every timestamp is
            <= until.
        progress: called with a short step name as each table is built.
        with_truth: also return TRUTH_TABLE (identifier -> person index), which `write_store`
            never writes.
        dirty: how dirty the store is; see `DirtyRates`.

    Returns:
        Tables by raw table name (plus TRUTH_TABLE when asked for).

    Raises:
        ValueError: persons is below 1.
    """
    if persons < 1:
        raise ValueError("persons must be at least 1")
    builder = _StoreBuilder(Run.create(persons, seed, until, dirty), progress)
    tables = builder.build()
    if with_truth:
        tables[TRUTH_TABLE] = builder.truth()
    return tables


def generate_truth(
    persons: int, seed: int, until: datetime, *, dirty: DirtyRates = DIRTY_RATES
) -> pa.Table:
    """The identity ground truth of `generate_store(persons, seed, until)`.

    Columns identifier_type ('customer_id', 'email', 'phone', 'anonymous_id'), identifier_value
    (normalised: trimmed lowercase email, E.164 phone) and person_index. Only identifiers that
    appear, usable, in at least one raw row are listed. It regenerates the whole store (the RNG
    stream is shared), so call generate_store(with_truth=True) when you need both.
    """
    return generate_store(persons, seed, until, with_truth=True, dirty=dirty)[TRUTH_TABLE]


class _StoreBuilder:
    """Runs the table steps in order; each reads the stages that earlier steps left here.

    The order of RNG draws is part of the output, so steps run exactly once, in `build`.
    """

    population: Population
    contacts: Contacts
    catalogue: Catalogue
    accounts: Accounts
    purchases: Purchases
    history: OrderHistory
    orders: Orders
    device_seen: np.ndarray
    subscriptions: Subscriptions
    opt_outs: ReplyOptOuts

    def __init__(self, run: Run, progress: Callable[[str], None] | None) -> None:
        self.run = run
        self.progress = progress or (lambda step: None)

    def build(self) -> dict[str, pa.Table]:
        tables: dict[str, pa.Table] = {}
        self.progress("persons")
        self.population = draw_population(self.run)
        self.contacts = draw_contacts(self.run, self.population)
        steps: tuple[tuple[str, Callable[[], pa.Table]], ...] = (
            ("products", self._products),
            ("customers", self._customers),
            ("orders", self._orders),
            ("order_items", self._order_items),
            ("events", self._events),
            ("message_events", self._message_events),
            ("consents", self._consents),
        )
        for name, step in steps:
            self.progress(name)
            tables[name] = step()
            # Hand freed Arrow buffers back to the OS so the next table's peak starts lower.
            pa.default_memory_pool().release_unused()
        return {spec.name: _conform(spec.name, tables[spec.name]) for spec in RAW_TABLES}

    def truth(self) -> pa.Table:
        return build_truth(
            self.run.seed, self.population, self.contacts, self.accounts, self.device_seen
        )

    def _products(self) -> pa.Table:
        self.catalogue, table = build_products(self.run.rng)
        return table

    def _customers(self) -> pa.Table:
        self.accounts, table = build_customers(self.run, self.population, self.contacts)
        return table

    def _orders(self) -> pa.Table:
        self.purchases = simulate_purchases(self.run, self.population, self.catalogue)
        self.history = order_history(self.purchases, self.run.persons)
        self.orders, table = build_orders(
            self.run, self.population, self.contacts, self.accounts, self.catalogue, self.purchases
        )
        return table

    def _order_items(self) -> pa.Table:
        return build_order_items(self.orders, self.catalogue)

    def _events(self) -> pa.Table:
        table, self.device_seen = build_events(
            self.run,
            self.population,
            self.contacts,
            self.accounts,
            self.catalogue,
            self.history,
            self.purchases,
            self.orders.lines,
        )
        # Order- and line-level arrays are not needed after the events: free them for the peak.
        del self.purchases, self.orders
        return table

    def _message_events(self) -> pa.Table:
        self.subscriptions = draw_subscriptions(
            self.run, self.population, self.contacts, self.history
        )
        table, self.opt_outs = build_message_events(self.run, self.contacts, self.subscriptions)
        return table

    def _consents(self) -> pa.Table:
        return build_consents(self.run, self.contacts, self.subscriptions, self.opt_outs)


def _conform(name: str, table: pa.Table) -> pa.Table:
    """Check the table against the contract; a mismatch is a generator bug, so fail loudly."""
    spec = RAW_TABLES_BY_NAME[name]
    schema = pa.schema([pa.field(c.name, _ARROW_TYPES[c.type]) for c in spec.columns])
    if table.schema != schema:
        raise AssertionError(f"{name}: {table.schema} != contract {schema}")
    return table
