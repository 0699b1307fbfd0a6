"""Email addresses: built from names, unique per person, and mistyped the ways shops receive them.

Addresses look like real ones ('jane.doe42@gmail.com', 'jdoe@web.de') so that normalisation and
matching in staging are tested on realistic strings, and each country has its own domain mix.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from activations.synthetic.arrays import assemble, join_strings, overlay, vocabulary
from activations.synthetic.persons import Population

TEST_ADDRESS = "test@example.com"
"""The shared address typed by staff and testers on many customer accounts."""

# (domain, share) per country, indexed as COUNTRIES.
_EMAIL_DOMAINS: tuple[tuple[tuple[str, float], ...], ...] = (
    (("gmail.com", 0.45), ("yahoo.com", 0.13), ("hotmail.com", 0.08), ("outlook.com", 0.1),
     ("icloud.com", 0.14), ("aol.com", 0.04), ("comcast.net", 0.06)),
    (("gmail.com", 0.4), ("hotmail.co.uk", 0.2), ("yahoo.co.uk", 0.1), ("outlook.com", 0.1),
     ("btinternet.com", 0.1), ("icloud.com", 0.1)),
    (("gmail.com", 0.3), ("web.de", 0.25), ("gmx.de", 0.25), ("t-online.de", 0.1),
     ("outlook.de", 0.1)),
    (("gmail.com", 0.35), ("orange.fr", 0.2), ("free.fr", 0.15), ("laposte.net", 0.1),
     ("hotmail.fr", 0.1), ("sfr.fr", 0.1)),
    (("gmail.com", 0.45), ("hotmail.com", 0.15), ("yahoo.ca", 0.1), ("outlook.com", 0.1),
     ("icloud.com", 0.1), ("shaw.ca", 0.05), ("rogers.com", 0.05)),
    (("gmail.com", 0.45), ("bigpond.com", 0.2), ("hotmail.com", 0.1), ("outlook.com", 0.1),
     ("icloud.com", 0.1), ("optusnet.com.au", 0.05)),
)  # fmt: skip


def draw_addresses(
    rng: np.random.Generator, population: Population, owners: np.ndarray
) -> tuple[pa.Array, pa.Array]:
    """(local part, domain) of a canonical (lowercase, trimmed) address per owner, all unique."""
    m = owners.size
    first = population.names.ascii.take(pa.array(population.names.first[owners]))
    last = population.names.ascii.take(pa.array(population.names.last[owners]))
    initial = pc.utf8_slice_codeunits(first, 0, 1)
    digits_kind = rng.random(m)
    number = np.where(
        digits_kind < 0.5, rng.integers(1, 100, m), rng.integers(1965, 2006, m)
    ).astype(np.int64)
    suffix = pc.if_else(pa.array(digits_kind < 0.7), pc.cast(pa.array(number), pa.string()), "")
    pattern = rng.choice(5, size=m, p=[0.35, 0.2, 0.15, 0.15, 0.15])
    groups: list[tuple[np.ndarray, pa.Array]] = []
    digits = pc.cast(pa.array(number), pa.string())
    # Address patterns: first.last42, firstlast42, flast42, first_last42, first1987.
    patterns: tuple[tuple[pa.Array | str, ...], ...] = (
        (first, ".", last, suffix),
        (first, last, suffix),
        (initial, last, suffix),
        (first, "_", last, suffix),
        (first, digits),
    )
    for kind_, parts in enumerate(patterns):
        rows = np.flatnonzero(pattern == kind_)
        picked = pa.array(rows)
        pieces = [part if isinstance(part, str) else part.take(picked) for part in parts]
        groups.append((rows, join_strings(*pieces)))
    local = assemble(m, groups)
    domain_names = sorted({d for table in _EMAIL_DOMAINS for d, _ in table})
    domain_index = np.zeros(m, dtype=np.int64)
    country = population.country[owners]
    for c, table in enumerate(_EMAIL_DOMAINS):
        rows = np.flatnonzero(country == c)
        weights = np.array([w for _, w in table])
        picks = rng.choice(len(table), size=rows.size, p=weights / weights.sum())
        lookup = np.array([domain_names.index(d) for d, _ in table])
        domain_index[rows] = lookup[picks]
    domain = vocabulary(domain_names).take(pa.array(domain_index))
    # Same name + digits + domain for two people happens; make the later ones unique.
    for _ in range(8):
        codes = pc.dictionary_encode(join_strings(local, "@", domain)).indices.to_numpy()
        _, first_rows = np.unique(codes, return_index=True)
        clash = np.setdiff1d(np.arange(m), first_rows)
        if clash.size == 0:
            break
        unique_tail = pc.cast(pa.array(owners[clash]), pa.string())
        local = overlay(local, clash, join_strings(local.take(pa.array(clash)), ".", unique_tail))
    return local, domain


def mistyped(canon: pa.Array, local: pa.Array, domain: pa.Array, variant: np.ndarray) -> pa.Array:
    """Valid addresses as typed: padded, title-cased or upper-cased, chosen by variant 0-4."""
    title_local = pc.utf8_title(local)
    return assemble(
        variant.size,
        [
            (
                np.flatnonzero(variant == 0),
                join_strings("  ", canon, " ").filter(pa.array(variant == 0)),
            ),
            (
                np.flatnonzero(variant == 1),
                join_strings(title_local, "@", pc.utf8_upper(domain)).filter(
                    pa.array(variant == 1)
                ),
            ),
            (np.flatnonzero(variant == 2), pc.utf8_upper(canon).filter(pa.array(variant == 2))),
            (
                np.flatnonzero(variant == 3),
                join_strings(" ", title_local, "@", domain).filter(pa.array(variant == 3)),
            ),
            (
                np.flatnonzero(variant == 4),
                join_strings(pc.utf8_capitalize(canon), " ").filter(pa.array(variant == 4)),
            ),
        ],
    )


def unusable(local: pa.Array, junk: np.ndarray) -> pa.Array:
    """Values nobody can send to, chosen by junk 0-3: 'jane.doe@', 'jane.doe', 'n/a', 'none'."""
    return pc.if_else(
        pa.array(junk == 0),
        join_strings(local, "@"),
        pc.if_else(pa.array(junk == 1), local, vocabulary(np.array(["n/a", "none"])[junk % 2])),
    )
