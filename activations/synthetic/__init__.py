"""A deterministic, vectorised synthetic ecommerce store that fills every raw table (DESIGN §3).

`cohortflow generate` writes it as Parquet; the demo, the dbt tests and the benchmarks load it. It
exists because lifecycle logic can only be trusted on data that looks like a real shop's: skewed
spend, customers who lapse and churn, consumables bought on a cycle, carts abandoned an hour ago,
subscribers who stopped opening, and the dirt every loader delivers (see `rates`).

The store simulates *persons* and derives the raw rows from them:

* registered customers (~55%): a `customers` row, browsing on 1-4 devices, orders for ~72% of
  them (the rest stay prospects), email/SMS consents and campaign messages;
* guest-only buyers (~10%): orders with `customer_id` null but an email and/or phone;
* anonymous visitors (~35%): only `events` with an `anonymous_id`.

Everything derives from `numpy.random.Generator(PCG64(seed))` with array operations (no per-row
Python loops; loops only run over rounds, countries, formats and other small fixed sets), so the
same `(persons, seed, until)` gives byte-identical tables and 1M persons take well under two
minutes. Strings are built with pyarrow compute kernels or straight from numpy byte buffers.

The history spans 3 years; message history the last 180 days. The ground truth for identity
resolution is returned only on request (`with_truth=True` or `generate_truth`) and never written
to Parquet.

Layout: `store` runs the steps in their fixed order; one module per table or table family
(`products`, `customers`, `purchases` + `orders`, `sessions` + `events`, `subscriptions` +
`campaigns` + `messages`, `consents`, `truth`); `persons`, `contacts`, `names`, `emails`,
`phones` and `regions` model the people behind the rows; `arrays` holds the vectorised column
builders; `writer` writes Parquet.
"""

from __future__ import annotations

from activations.synthetic.clock import HISTORY_DAYS, MESSAGE_HISTORY_DAYS
from activations.synthetic.emails import TEST_ADDRESS
from activations.synthetic.rates import DIRTY_RATES, DirtyRates
from activations.synthetic.store import generate_store, generate_truth
from activations.synthetic.truth import TRUTH_TABLE
from activations.synthetic.writer import write_store

__all__ = [
    "DIRTY_RATES",
    "HISTORY_DAYS",
    "MESSAGE_HISTORY_DAYS",
    "TEST_ADDRESS",
    "TRUTH_TABLE",
    "DirtyRates",
    "generate_store",
    "generate_truth",
    "write_store",
]
