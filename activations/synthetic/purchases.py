"""When buyers order: a renewal process per buyer, simulated in rounds rather than rows.

Lifecycle stages (new, repeat, VIP, lapsed, churned) only mean something if order timing is
realistic. After each order a buyer either stops for good or orders again after a lognormal gap,
so the chance of another order falls with the time since the last one. A few big spenders order
very often; consumable buyers re-order on their product's `replenishment_days` cycle until they
stop (and become overdue). This yields VIP, repeat, new, lapsed and churned customers in
plausible shares.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from activations.synthetic.clock import DAY, MIN, NEVER
from activations.synthetic.persons import GUEST, REGISTERED, Population
from activations.synthetic.products import Catalogue
from activations.synthetic.run import Run

PROSPECT_SHARE = 0.28  # registered customers who never order


@dataclass(frozen=True)
class Purchases:
    """Every order in time order (buyer, person, time), and per buyer what they tend to buy."""

    buyer: np.ndarray  # per order: index into the buyers, for `spend` and `habit_product`
    person: np.ndarray  # per order
    time: np.ndarray  # per order
    spend: np.ndarray  # per buyer: standard-normal spend level (big spenders shifted up)
    habit_product: np.ndarray  # per buyer: the consumable they re-order, -1 for none


@dataclass(frozen=True)
class OrderHistory:
    """Per person: first and last order time (NEVER / -1 without orders) and the order count."""

    first: np.ndarray
    last: np.ndarray
    count: np.ndarray


def simulate_purchases(run: Run, population: Population, catalogue: Catalogue) -> Purchases:
    """Renewal process per buyer: stop for good, or re-order after a gap; rounds, not rows."""
    rng = run.rng
    n = run.persons
    registered = population.kind == REGISTERED
    buyer = (registered & (rng.random(n) >= PROSPECT_SHARE)) | (population.kind == GUEST)
    buyers = np.flatnonzero(buyer)
    b = buyers.size
    is_reg = registered[buyers]
    same_visit = rng.random(b) < np.where(is_reg, 0.45, 0.65)
    lag = np.where(
        same_visit,
        rng.uniform(2 * MIN, 40 * MIN, b),
        rng.exponential(np.where(is_reg, 30, 8) * DAY, b),
    ).astype(np.int64)
    first = np.where(is_reg, population.created_at[buyers], population.arrival[buyers]) + lag
    cutoff = run.until - 10 * MIN
    # Per-buyer behaviour: big spenders, consumable habits, everyone else.
    big = is_reg & (rng.random(b) < 0.012)
    habit = ~big & (rng.random(b) < np.where(is_reg, 0.25, 0.10))
    habit_product = np.full(b, -1, dtype=np.int64)
    habit_product[habit] = rng.choice(
        catalogue.consumables, size=int(habit.sum()), p=catalogue.consumable_p
    )
    cycle = np.where(habit, catalogue.cycle[habit_product] * DAY, 0)
    keep_going = np.where(is_reg, rng.beta(2.0, 3.2, b), rng.beta(1.2, 4.5, b))
    keep_going = np.where(habit, rng.beta(9.0, 2.0, b), keep_going)
    keep_going = np.where(big, 0.95, keep_going)
    gap_median = np.exp(rng.normal(math.log(70.0), 0.45, b)) * DAY
    gap_median = np.where(big, 18.0 * DAY, gap_median)
    spend = rng.standard_normal(b) + np.where(big, 1.5, 0.0)
    active = np.flatnonzero(first < cutoff)
    when = first[active]
    rounds_b = [active]
    rounds_t = [when]
    made = 1
    while active.size and made < 400:
        loyal = np.where(
            habit[active],
            keep_going[active],
            np.minimum(0.92, keep_going[active] + 0.05 * (made - 1)),
        )
        again = rng.random(active.size) < loyal
        gap = np.where(
            habit[active],
            cycle[active] * rng.lognormal(0.0, 0.15, active.size),
            gap_median[active] * rng.lognormal(0.0, 0.8, active.size),
        )
        when = when + np.maximum(gap, DAY).astype(np.int64)
        ok = again & (when < cutoff)
        active, when = active[ok], when[ok]
        rounds_b.append(active)
        rounds_t.append(when)
        made += 1
    order_buyer = np.concatenate(rounds_b)
    order_time = np.concatenate(rounds_t) + rng.integers(0, MIN, order_buyer.size)
    order_time = np.minimum(order_time, cutoff)
    order = np.lexsort((order_buyer, order_time))
    order_buyer = order_buyer[order]
    return Purchases(
        buyer=order_buyer,
        person=buyers[order_buyer],
        time=order_time[order],
        spend=spend,
        habit_product=habit_product,
    )


def order_history(purchases: Purchases, persons: int) -> OrderHistory:
    """Each person's first and last order time and order count."""
    first = np.full(persons, NEVER, dtype=np.int64)
    np.minimum.at(first, purchases.person, purchases.time)
    last = np.full(persons, -1, dtype=np.int64)
    np.maximum.at(last, purchases.person, purchases.time)
    return OrderHistory(
        first=first, last=last, count=np.bincount(purchases.person, minlength=persons)
    )
