"""Browsing sessions: what each person did on the site, before it becomes `events` rows.

Sessions come from four sources, so every web-behaviour segment has members: ordinary visits, the
signup visit (events before `identify`), checkout sessions that end in each order, and recent
abandoners with carts, checkouts or product views in the last hours and days.
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace

import numpy as np

from activations.synthetic.arrays import expand, pick_index
from activations.synthetic.clock import DAY, HOUR, MIN, SEC
from activations.synthetic.orders import OrderLines
from activations.synthetic.persons import ANONYMOUS, REGISTERED, Population
from activations.synthetic.purchases import OrderHistory, Purchases
from activations.synthetic.run import Run


@dataclass(frozen=True)
class Sessions:
    """Browsing sessions about to become events (one entry per session)."""

    person: np.ndarray
    device: np.ndarray
    start: np.ndarray
    page_views: np.ndarray
    product_views: np.ndarray
    carts: np.ndarray
    checkouts: np.ndarray
    order: np.ndarray  # sorted order index for checkout sessions, -1 otherwise
    anchored_end: np.ndarray  # True: `start` is the moment the session must end before


def draw_sessions(
    run: Run,
    population: Population,
    history: OrderHistory,
    purchases: Purchases,
    lines: OrderLines,
) -> Sessions:
    """All browsing sessions: ordinary visits, checkouts, and the recent abandoners."""
    rng, n, until = run.rng, run.persons, run.until
    kind = population.kind
    registered = kind == REGISTERED
    orders = history.count
    parts: list[Sessions] = []

    # Ordinary visits. Anonymous visitors come once or a few times soon after arriving.
    visits = np.where(
        kind == ANONYMOUS,
        rng.geometric(0.55, n),
        rng.poisson(np.where(registered, 0.7, 0.4) + np.where(registered, 0.5, 0.4) * orders),
    )
    person, rank = expand(visits)
    active_from = population.arrival[person]
    last_seen = np.maximum(
        np.where(registered[person], population.created_at[person], population.arrival[person]),
        history.last[person],
    )
    active_to = np.minimum(
        until, last_seen + rng.exponential(60 * DAY, person.size).astype(np.int64)
    )
    anon = kind[person] == ANONYMOUS
    start = np.where(
        anon,
        active_from
        + np.where(rank == 0, 0, rng.exponential(15 * DAY, person.size)).astype(np.int64),
        active_from
        + (rng.random(person.size) * np.maximum(active_to - active_from, 0)).astype(np.int64),
    )
    inside = start < until - MIN
    parts.append(
        _browse(rng, population, person[inside], start[inside], (rank == 0)[inside], carts=0.12)
    )

    # The signup visit of each customer ends just before created_at (events before identify).
    signup = np.flatnonzero(registered)
    parts.append(
        _browse(
            rng,
            population,
            signup,
            population.created_at[signup],
            np.ones(signup.size, bool),
            carts=0.0,
            anchored=True,
            views=(0.3, 0.6),
        )
    )

    # Checkout sessions: view and add each line's product, start checkout, then the order.
    m = purchases.time.size
    people = purchases.person
    device = (
        np.where(rng.random(m) < 0.6, 0, pick_index(rng, population.devices[people]))
        + population.device_offset[people]
    )
    parts.append(
        Sessions(
            person=people,
            device=device,
            start=purchases.time - rng.integers(30 * SEC, 5 * MIN, m),
            page_views=1 + (rng.random(m) < 0.25).astype(np.int64),
            product_views=lines.count,
            carts=lines.count,
            checkouts=np.ones(m, np.int64),
            order=np.arange(m),
            anchored_end=np.ones(m, bool),
        )
    )

    # Recent abandoners: carts/checkouts in the last 48 h and product views in the last days,
    # by customers with no later order (their device 0 is identified since signup).
    created_at, last_order = population.created_at, history.last
    quiet_2d = registered & (created_at < until - 2 * DAY) & (last_order < until - 2 * DAY)
    carts = np.flatnonzero(quiet_2d & (rng.random(n) < 0.015))
    cart_start = until - rng.integers(30 * MIN, 46 * HOUR, carts.size)
    cart = _browse(
        rng, population, carts, cart_start, np.ones(carts.size, bool), carts=1.0, min_views=1
    )
    parts.append(replace(cart, checkouts=(rng.random(carts.size) < 0.4).astype(np.int64)))
    quiet_7d = registered & (created_at < until - 7 * DAY) & (last_order < until - 5 * DAY)
    browsers = np.flatnonzero(quiet_7d & (rng.random(n) < 0.02))
    browse_start = until - rng.integers(1 * HOUR, 5 * DAY, browsers.size)
    parts.append(
        _browse(
            rng,
            population,
            browsers,
            browse_start,
            np.ones(browsers.size, bool),
            carts=0.0,
            min_views=1,
        )
    )

    return Sessions(
        **{
            field.name: np.concatenate([getattr(p, field.name) for p in parts])
            for field in fields(Sessions)
        }
    )


def _browse(
    rng: np.random.Generator,
    population: Population,
    person: np.ndarray,
    start: np.ndarray,
    on_first_device: np.ndarray,
    *,
    carts: float,
    anchored: bool = False,
    min_views: int = 0,
    views: tuple[float, float] = (0.8, 1.3),
) -> Sessions:
    """Ordinary sessions: a few page and product views, sometimes a cart and a checkout."""
    k = person.size
    device = np.where(
        on_first_device | (rng.random(k) < 0.5), 0, pick_index(rng, population.devices[person])
    )
    product_views = np.maximum(rng.poisson(views[1], k), min_views)
    cart = (rng.random(k) < carts) & (product_views > 0)
    cart_count = np.where(cart, np.maximum(1, rng.binomial(product_views, 0.5)), 0)
    return Sessions(
        person=person,
        device=device + population.device_offset[person],
        start=start.astype(np.int64),
        page_views=1 + rng.poisson(views[0], k),
        product_views=product_views,
        carts=cart_count,
        checkouts=(cart & (rng.random(k) < 0.3)).astype(np.int64),
        order=np.full(k, -1, dtype=np.int64),
        anchored_end=np.full(k, anchored, dtype=bool),
    )
