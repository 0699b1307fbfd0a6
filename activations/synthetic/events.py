"""The `events` table: web events per session plus one `identify` per identified device.

Events are what identity resolution stitches together: a device is anonymous (`anonymous_id`
only) until its owner signs up or checks out on it, and from then on its events carry the
customer id. Events before an `identify` carry only `anonymous_id`.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from activations.raw_contract import EVENT_TYPES
from activations.synthetic.arrays import (
    coded_ids,
    scrambled_hex_ids,
    take_or_null,
    timestamps,
    vocabulary,
    with_copies,
)
from activations.synthetic.clock import NEVER, SEC
from activations.synthetic.contacts import Contacts
from activations.synthetic.customers import Accounts
from activations.synthetic.orders import OrderLines
from activations.synthetic.persons import REGISTERED, Population
from activations.synthetic.products import Catalogue
from activations.synthetic.purchases import OrderHistory, Purchases
from activations.synthetic.run import Run
from activations.synthetic.sessions import draw_sessions


def anonymous_ids(devices: np.ndarray, seed: int) -> pa.Array:
    """The `anonymous_id` of each device: random-looking, stable for a seed, never repeated."""
    return scrambled_hex_ids(devices, salt=seed * 7919 + 17)


def build_events(
    run: Run,
    population: Population,
    contacts: Contacts,
    accounts: Accounts,
    catalogue: Catalogue,
    history: OrderHistory,
    purchases: Purchases,
    lines: OrderLines,
) -> tuple[pa.Table, np.ndarray]:
    """Session events plus one identify per identified device, in time order.

    Returns the table and, per device, whether any event carries its `anonymous_id`.

    The biggest table (~13M rows at 1M persons), so it works on int32 indices, drops
    temporaries early and applies the duplicate rows to numpy indices before any string
    column exists (a take on the finished table would double the peak memory).
    """
    rng, until = run.rng, run.until
    s = draw_sessions(run, population, history, purchases, lines)
    counts = (s.page_views + s.product_views + s.carts + s.checkouts).astype(np.int32)
    session = np.repeat(np.arange(counts.size, dtype=np.int32), counts)
    first_event = np.cumsum(counts, dtype=np.int64) - counts
    rank = (np.arange(session.size, dtype=np.int64) - first_event[session]).astype(np.int32)
    e = session.size
    # Event types by position in the session: page views, product views, carts, checkout.
    bound = s.page_views.astype(np.int32)[session]
    event_type = (rank >= bound).astype(np.int8)
    view_rank = rank - bound
    bound += s.product_views.astype(np.int32)[session]
    event_type += rank >= bound
    cart_rank = rank - bound
    bound += s.carts.astype(np.int32)[session]
    event_type += rank >= bound
    del bound, rank
    # Times: ~40 s gaps; checkout/signup sessions end at their anchor, others before until.
    offset = np.cumsum(2 * SEC + rng.exponential(40 * SEC, e)).astype(np.int64)
    offset -= offset[first_event][session]
    duration = np.zeros(counts.size, dtype=np.int64)
    nonempty = counts > 0
    duration[nonempty] = offset[first_event[nonempty] + counts[nonempty] - 1]
    start = np.where(
        s.anchored_end,
        s.start - duration - 5 * SEC,
        np.minimum(s.start, until - duration - SEC),
    )
    occurred = start[session] + offset
    del offset, duration
    # Products: checkout sessions show their order lines; carts re-use the viewed products.
    product = np.full(e, -1, dtype=np.int32)
    of_order = s.order[session]
    from_order = np.flatnonzero((event_type == 1) & (of_order >= 0))
    line = lines.start[of_order[from_order]] + view_rank[from_order]
    product[from_order] = lines.product[line]
    browsing = np.flatnonzero((event_type == 1) & (of_order < 0))
    product[browsing] = rng.choice(
        catalogue.popularity.size, size=browsing.size, p=catalogue.popularity
    )
    del of_order, from_order, line, browsing, view_rank
    carting = np.flatnonzero(event_type == 2)
    source = first_event[session[carting]] + s.page_views[session[carting]] + cart_rank[carting]
    product[carting] = product[source]
    del carting, source, cart_rank, first_event
    person = s.person.astype(np.int32)[session]
    device = s.device.astype(np.int32)[session]
    del session
    # Identification per device: signup (device 0) and the first checkout on each device.
    registered = population.kind == REGISTERED
    identified = np.full(population.device_count, NEVER, dtype=np.int64)
    signed_up = np.flatnonzero(registered)
    identified[population.device_offset[signed_up]] = population.created_at[signed_up]
    checkout = np.flatnonzero(s.order >= 0)
    can_identify = registered[s.person[checkout]] | (contacts.email_pos[s.person[checkout]] >= 0)
    checkout = checkout[can_identify]
    np.minimum.at(identified, s.device[checkout], start[checkout] - SEC)
    del s, start
    # Identify events, then everything sorted by time, then the duplicate copies.
    devices = np.flatnonzero(identified <= until)
    owner = np.repeat(np.arange(run.persons, dtype=np.int32), population.devices)[devices]
    person = np.concatenate([person, owner])
    device = np.concatenate([device, devices.astype(np.int32)])
    occurred = np.concatenate([occurred, identified[devices]])
    event_type = np.concatenate([event_type, np.full(devices.size, 4, np.int8)])
    product = np.concatenate([product, np.full(devices.size, -1, np.int32)])
    del owner, devices
    keep = np.flatnonzero(occurred <= until)
    by_time = keep[np.argsort(occurred[keep], kind="stable")]
    del keep
    e = by_time.size
    rows = with_copies(rng, e, run.dirty.duplicate_rows)
    by_time = by_time[rows]
    person, device, occurred = person[by_time], device[by_time], occurred[by_time]
    event_type, product = event_type[by_time], product[by_time]
    del by_time
    customer = np.where(
        registered[person] & (occurred >= identified[device]), accounts.row[person], -1
    )
    # Emails only on identify events; drawn per original row so copies stay exact copies.
    draw = rng.random(e)[rows]
    email_on = (event_type == 4) & (~registered[person] | (draw < 0.6))
    del draw
    carrying = np.flatnonzero(email_on)
    originals, first_copy, inverse = np.unique(
        rows[carrying], return_index=True, return_inverse=True
    )
    typed = contacts.typed_emails(
        rng,
        person[carrying[first_copy]],
        np.ones(originals.size, dtype=bool),
        case=run.dirty.email_case_or_padding,
        invalid=0.0,
    )
    slot = np.full(rows.size, -1, dtype=np.int64)
    slot[carrying] = inverse
    email = take_or_null(typed, slot)
    del email_on, carrying, originals, first_copy, inverse, slot
    device_seen = np.zeros(population.device_count, dtype=bool)
    device_seen[device] = True
    columns: dict[str, pa.Array] = {}
    columns["event_id"] = coded_ids("ev_", rows + 1, max(9, len(str(e))))
    del rows
    columns["anonymous_id"] = anonymous_ids(device, run.seed)
    del device
    columns["customer_id"] = take_or_null(accounts.ids, customer)
    del customer
    columns["email"] = email
    columns["event_type"] = vocabulary(EVENT_TYPES).take(pa.array(event_type))
    columns["product_id"] = take_or_null(catalogue.ids, product)
    columns["occurred_at"] = timestamps(occurred)
    return pa.table(columns), device_seen
