"""The `customers` table: one account per registered person, plus the dirt accounts carry.

A few people open a second account with the same email (so identity resolution must merge
customer ids), and some rows lack country, timezone or a name, as exports from real shops do.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from activations.synthetic.arrays import (
    coded_ids,
    take_or_null,
    timestamps,
    vocabulary,
    with_copies,
)
from activations.synthetic.clock import MIN
from activations.synthetic.contacts import Contacts
from activations.synthetic.persons import REGISTERED, Population
from activations.synthetic.regions import COUNTRIES, REGION_TZ, TIMEZONES
from activations.synthetic.run import Run


@dataclass(frozen=True)
class Accounts:
    """Customer accounts in id order; `row` finds each person's first account."""

    ids: pa.Array
    person: np.ndarray  # per account: its person
    row: np.ndarray  # per person: index of their first account, -1 without one


def build_customers(
    run: Run, population: Population, contacts: Contacts
) -> tuple[Accounts, pa.Table]:
    """One row per registered person (+ a few second accounts), ids in signup order."""
    rng, dirty = run.rng, run.dirty
    registered = np.flatnonzero(population.kind == REGISTERED)
    has_email = contacts.email_pos[registered] >= 0
    second = registered[has_email & (rng.random(registered.size) < dirty.duplicate_accounts)]
    second_created = population.created_at[second] + (
        rng.random(second.size) * (run.until - MIN - population.created_at[second])
    ).astype(np.int64)
    person = np.concatenate([registered, second])
    created = np.concatenate([population.created_at[registered], second_created])
    order = np.lexsort((person, created))
    person, created = person[order], created[order]
    is_second = np.concatenate([np.zeros(registered.size, bool), np.ones(second.size, bool)])[order]
    width = max(8, len(str(person.size)))
    ids = coded_ids("cus_", np.arange(1, person.size + 1), width)
    row = np.full(run.persons, -1, dtype=np.int64)
    row[person[~is_second]] = np.flatnonzero(~is_second)
    n = person.size
    country_null = rng.random(n) < dirty.null_country
    tz_null = country_null | (rng.random(n) < dirty.null_timezone - dirty.null_country)
    email = contacts.typed_emails(
        rng,
        person,
        np.ones(n, bool),
        case=dirty.email_case_or_padding,
        invalid=dirty.invalid_email,
    )
    phone = contacts.typed_phones(
        rng, person, ~is_second, local_ok=~country_null, junk=dirty.junk_phone
    )
    names = population.names
    table = pa.table(
        {
            "customer_id": ids,
            "email": email,
            "phone": phone,
            "first_name": take_or_null(
                names.display, names.first[person], rng.random(n) >= dirty.null_first_name
            ),
            "last_name": take_or_null(
                names.display, names.last[person], rng.random(n) >= dirty.null_last_name
            ),
            "created_at": timestamps(created),
            "country": take_or_null(
                vocabulary(COUNTRIES), population.country[person], ~country_null
            ),
            "timezone": take_or_null(
                vocabulary(TIMEZONES), REGION_TZ[population.region[person]], ~tz_null
            ),
        }
    )
    rows = with_copies(rng, n, dirty.duplicate_rows)
    return Accounts(ids=ids, person=person, row=row), table.take(pa.array(rows))
