"""The identity ground truth: every raw identifier, normalised, mapped to the person behind it.

Identity resolution is evaluated against it, so it is returned only on request and never written
next to the raw tables. It lists only identifiers that appear, usable, in at least one raw row;
the shared test address belongs to nobody and is left out.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from activations.synthetic.arrays import vocabulary
from activations.synthetic.contacts import Contacts
from activations.synthetic.customers import Accounts
from activations.synthetic.events import anonymous_ids
from activations.synthetic.persons import Population

TRUTH_TABLE = "identity_truth"
"""Key of the ground-truth table in `generate_store(..., with_truth=True)`; never written."""

TRUTH_SCHEMA = pa.schema(
    [
        pa.field("identifier_type", pa.string()),
        pa.field("identifier_value", pa.string()),
        pa.field("person_index", pa.int64()),
    ]
)


def build_truth(
    seed: int,
    population: Population,
    contacts: Contacts,
    accounts: Accounts,
    device_seen: np.ndarray,
) -> pa.Table:
    """Every identifier that appears usable in a raw row, normalised, with its person."""
    parts: list[tuple[str, pa.Array, np.ndarray]] = []
    parts.append(("customer_id", accounts.ids, accounts.person))
    people = np.flatnonzero(contacts.email_seen & ~contacts.is_test)
    parts.append(("email", contacts.email_canon.take(pa.array(contacts.email_pos[people])), people))
    people = np.flatnonzero(contacts.phone_seen)
    parts.append(("phone", contacts.phone_e164.take(pa.array(contacts.phone_pos[people])), people))
    devices = np.flatnonzero(device_seen)
    owner = np.repeat(np.arange(population.devices.size), population.devices)[devices]
    parts.append(("anonymous_id", anonymous_ids(devices, seed), owner))
    return pa.table(
        {
            "identifier_type": pa.concat_arrays(
                [vocabulary(np.full(len(values), name)) for name, values, _ in parts]
            ),
            "identifier_value": pa.concat_arrays([values for _, values, _ in parts]),
            "person_index": pa.array(np.concatenate([p for _, _, p in parts]), type=pa.int64()),
        },
        schema=TRUTH_SCHEMA,
    )
