"""Phone normalisation to E.164 with the `phonenumbers` library, kept as a lookup in the warehouse.

Phone numbers cannot be parsed portably in SQL ('(415) 555-0134' in the US, '020 7946 0958' in GB),
so before dbt runs cohortflow reads every raw phone it has not seen yet, with the region staging
will read it in, and stores the E.164 form (or why there is none) in `cohortflow_state.phone_e164`.
Staging joins that table. Only new phones are parsed, so a daily run costs little.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import phonenumbers
import pyarrow as pa
from sqlalchemy.engine import Connection

from activations.bulk import insert_arrow
from activations.migrations import migrate
from activations.queries import statement

INVALID_PHONE = "invalid_phone"


@dataclass(frozen=True)
class PhoneRefresh:
    """What one refresh added to the lookup."""

    added: int
    invalid: int


def to_e164(phone_raw: str, region: str) -> str | None:
    """The E.164 form of `phone_raw` read in `region` (ISO-2), or None if it is not valid."""
    try:
        number = phonenumbers.parse(phone_raw, region)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def normalise_pairs(pairs: Iterable[tuple[str, str]]) -> pa.Table:
    """Lookup rows (phone_raw, region, phone_e164, reason) for (phone_raw, region) pairs."""
    raws: list[str] = []
    regions: list[str] = []
    e164s: list[str | None] = []
    for phone_raw, region in pairs:
        raws.append(phone_raw)
        regions.append(region)
        e164s.append(to_e164(phone_raw, region))
    reasons = [None if value is not None else INVALID_PHONE for value in e164s]
    return pa.table(
        {
            "phone_raw": pa.array(raws, pa.string()),
            "region": pa.array(regions, pa.string()),
            "phone_e164": pa.array(e164s, pa.string()),
            "reason": pa.array(reasons, pa.string()),
        }
    )


def refresh_phone_lookup(
    connection: Connection, *, raw_schema: str, state_schema: str, default_region: str
) -> PhoneRefresh:
    """Normalise every raw phone the lookup does not hold yet and store the results."""
    migrate(connection, state_schema)
    query = statement(
        connection, "select_phone_candidates", raw_schema=raw_schema, state_schema=state_schema
    )
    pairs = connection.execute(query, {"default_region": default_region}).all()
    rows = normalise_pairs((str(phone), str(region)) for phone, region in pairs)
    insert_arrow(connection, state_schema, "phone_e164", rows)
    invalid = rows.num_rows - rows.column("reason").null_count
    return PhoneRefresh(added=rows.num_rows, invalid=invalid)
