"""Each known person's email address and phone number, and how rows carry them.

A person has at most one address and one number, unique to them (bar the shared test address),
so the identity truth is exact. Rows never hold the canonical value as such: `typed_emails` and
`typed_phones` write it as the person typed it on that row, with the dirt of DIRTY_RATES, and
record which identifiers reached a raw row in usable form (only those belong in the truth).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from activations.synthetic.arrays import join_strings, overlay, take_or_null, vocabulary
from activations.synthetic.emails import TEST_ADDRESS, draw_addresses, mistyped, unusable
from activations.synthetic.persons import ANONYMOUS, REGISTERED, Population
from activations.synthetic.phones import (
    JUNK_PHONES,
    LOCAL_FORMAT_SHARE,
    draw_unique_numbers,
    e164,
    render_numbers,
)
from activations.synthetic.run import Run


@dataclass(frozen=True)
class Contacts:
    """Per person: `email_pos` / `phone_pos` index the address and number arrays (-1: none).

    `email_seen` and `phone_seen` start all False and are set in place as rows are written.
    """

    country: np.ndarray  # per person, index into COUNTRIES: decides how their phone is written
    is_test: np.ndarray  # uses the shared TEST_ADDRESS, which belongs to nobody
    has_phone: np.ndarray
    email_pos: np.ndarray
    email_local: pa.Array
    email_domain: pa.Array
    email_canon: pa.Array  # lowercase, trimmed
    phone_pos: np.ndarray
    phone_kind: np.ndarray  # per person: 0 NANP, 1 mobile, 2 landline, -1 none
    phone_nsn: pa.Array  # national significant number
    phone_e164: pa.Array
    email_seen: np.ndarray
    phone_seen: np.ndarray

    def typed_emails(
        self,
        rng: np.random.Generator,
        people: np.ndarray,
        present: np.ndarray,
        *,
        case: float,
        invalid: float,
    ) -> pa.Array:
        """Emails as typed on rows of `people`: dirty case/padding, some invalid; marks seen."""
        pos = self.email_pos[people]
        present = present & (pos >= 0)
        base = take_or_null(self.email_canon, pos, present)
        draw = rng.random(people.size)
        bad = present & (draw < invalid) & ~self.is_test[people]
        messy = present & ~bad & (draw >= invalid) & (draw < invalid + case)
        self.email_seen[people[present & ~bad & ~self.is_test[people]]] = True
        rows = np.flatnonzero(messy)
        variant = rng.integers(0, 5, rows.size)
        canon = base.take(pa.array(rows))
        local = self.email_local.take(pa.array(pos[rows]))
        domain = self.email_domain.take(pa.array(pos[rows]))
        out = overlay(base, rows, mistyped(canon, local, domain, variant))
        rows = np.flatnonzero(bad)
        local = self.email_local.take(pa.array(pos[rows]))
        junk = rng.integers(0, 4, rows.size)
        return overlay(out, rows, unusable(local, junk))

    def typed_phones(
        self,
        rng: np.random.Generator,
        people: np.ndarray,
        present: np.ndarray,
        *,
        local_ok: np.ndarray,
        junk: float,
    ) -> pa.Array:
        """Phones as typed on rows of `people` in local/international formats; marks seen."""
        pos = self.phone_pos[people]
        present = present & (pos >= 0)
        rows = np.flatnonzero(present)
        country = self.country[people[rows]]
        kind = self.phone_kind[people[rows]]
        use_local = local_ok[rows] & (rng.random(rows.size) < LOCAL_FORMAT_SHARE)
        pick = rng.random(rows.size)
        formatted = render_numbers(self.phone_nsn, pos[rows], country, kind, use_local, pick)
        is_junk = rng.random(rows.size) < junk
        junk_values = vocabulary(
            np.array(JUNK_PHONES)[rng.integers(0, len(JUNK_PHONES), rows.size)]
        )
        formatted = pc.if_else(pa.array(is_junk), junk_values, formatted)
        self.phone_seen[people[rows[~is_junk]]] = True
        index = np.full(people.size, -1, dtype=np.int64)
        index[rows] = np.arange(rows.size)
        return take_or_null(formatted, index)


def draw_contacts(run: Run, population: Population) -> Contacts:
    """Emails and phones per known person (unique per person), plus the test-address users."""
    n, rng = run.persons, run.rng
    known = population.kind != ANONYMOUS
    registered = population.kind == REGISTERED
    has_email = known & (rng.random(n) < np.where(registered, 0.96, 0.9))
    has_phone = known & (rng.random(n) < np.where(registered, 0.55, 0.45))
    has_phone |= known & ~has_email  # a guest or customer always leaves one way to reach them
    email_owners = np.flatnonzero(has_email)
    email_local, email_domain = draw_addresses(rng, population, email_owners)
    email_canon = join_strings(email_local, "@", email_domain)
    email_pos = np.full(n, -1, dtype=np.int64)
    email_pos[email_owners] = np.arange(email_owners.size)
    # The shared test address replaces the own address of a few registered customers.
    test_count = max(
        run.dirty.test_address_min_customers,
        round(run.dirty.test_address_customers * int(registered.sum())),
    )
    candidates = np.flatnonzero(registered & has_email)
    chosen = rng.choice(candidates, size=min(test_count, candidates.size), replace=False)
    is_test = np.zeros(n, dtype=bool)
    is_test[chosen] = True
    at = email_pos[chosen]
    local, domain = TEST_ADDRESS.split("@")
    email_local = overlay(email_local, at, vocabulary(np.full(at.size, local)))
    email_domain = overlay(email_domain, at, vocabulary(np.full(at.size, domain)))
    email_canon = overlay(email_canon, at, vocabulary(np.full(at.size, TEST_ADDRESS)))
    phone_owners = np.flatnonzero(has_phone)
    owner_country = population.country[phone_owners]
    kind, nsn = draw_unique_numbers(rng, owner_country, population.region[phone_owners])
    phone_kind = np.full(n, -1, dtype=np.int64)
    phone_kind[phone_owners] = kind
    phone_pos = np.full(n, -1, dtype=np.int64)
    phone_pos[phone_owners] = np.arange(phone_owners.size)
    phone_nsn = pc.cast(pa.array(nsn), pa.string())
    return Contacts(
        country=population.country,
        is_test=is_test,
        has_phone=has_phone,
        email_pos=email_pos,
        email_local=email_local,
        email_domain=email_domain,
        email_canon=email_canon,
        phone_pos=phone_pos,
        phone_kind=phone_kind,
        phone_nsn=phone_nsn,
        phone_e164=e164(phone_nsn, owner_country),
        email_seen=np.zeros(n, dtype=bool),
        phone_seen=np.zeros(n, dtype=bool),
    )
