"""Phone numbers: valid numbers per country's plan, written the ways people type them.

Staging parses phones with `phonenumbers`, so every non-junk number drawn here is valid for
`phonenumbers.is_valid_number` (only ranges the library accepts in full are used), and numbers are
unique per person so a shared phone in the data always means a deliberate identity link.

In `customers`, where `country` is set, phones use the country's local or international formats
('(415) 555-0134', '020 7946 0958', '0049 30 1234567', '+1 415-555-0134'); with country null they
are international ('+44 20 7946 0958'). Where a row has no country (orders, consents) US and
Canadian numbers use local NANP formats and all others an international '+' format, so region 'US'
parses them.

A number's kind is 0 for NANP (no separate mobile plan), 1 for mobile and 2 for landline.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from activations.synthetic.arrays import assemble, join_strings, pick_index, vocabulary
from activations.synthetic.regions import NANP_COUNTRIES, REGIONS

# Per country, indexed as COUNTRIES: calling code, digits in a national number, mobile share.
_CALLING_CODE = (1, 44, 49, 33, 1, 61)
_NSN_DIGITS = (10, 10, 10, 9, 10, 9)
_MOBILE_SHARE = (0.0, 0.75, 0.7, 0.75, 0.0, 0.7)  # NANP numbers have no separate mobile plan
# Mobile prefixes that libphonenumber accepts as valid over their whole range.
_MOBILE_PREFIXES: tuple[tuple[str, ...], ...] = (
    (),
    ("74", "75", "78"),
    ("160", "162", "163", "170", "171", "172", "173", "174", "175", "176", "177", "178", "179"),
    ("60", "61", "62", "64", "65", "66", "67", "68", "73", "74", "75", "76", "77", "78"),
    (),
    ("40", "41", "42", "43"),
)

# Valid NANP exchanges: 200-999 without N11, 555 and the special 950/958/959/976 blocks.
_NXX = np.array(
    [e for e in range(200, 1000) if e % 100 != 11 and e not in (555, 950, 958, 959, 976)],
    dtype=np.int64,
)

_NANP_LOCAL = ("(NNN) NNN-NNNN", "NNN-NNN-NNNN", "NNN.NNN.NNNN", "NNNNNNNNNN", "1-NNN-NNN-NNNN")
_NANP_INTL = ("+1 NNN-NNN-NNNN", "+1NNNNNNNNNN", "+1 (NNN) NNN-NNNN")
_FR_LOCAL = ("0N NN NN NN NN", "0NNNNNNNNN", "0N.NN.NN.NN.NN", "0033 N NN NN NN NN")
_FR_INTL = ("+33 N NN NN NN NN", "+33NNNNNNNNN", "+33 (0)N NN NN NN NN")
# (local formats, international formats) per (country, kind); kind 0 NANP, 1 mobile, 2 landline.
# Each 'N' takes the next digit of the national significant number.
_PHONE_TEMPLATES: dict[tuple[int, int], tuple[tuple[str, ...], tuple[str, ...]]] = {
    (0, 0): (_NANP_LOCAL, _NANP_INTL),
    (4, 0): (_NANP_LOCAL, _NANP_INTL),
    (1, 1): (
        ("0NNNN NNNNNN", "0NNNNNNNNNN", "0044 NNNN NNNNNN"),
        ("+44 NNNN NNNNNN", "+44NNNNNNNNNN", "+44 (0)NNNN NNNNNN"),
    ),
    (1, 2): (
        ("0NN NNNN NNNN", "(0NN) NNNN NNNN", "0NNNNNNNNNN"),
        ("+44 NN NNNN NNNN", "+44NNNNNNNNNN"),
    ),
    (2, 1): (
        ("0NNN NNNNNNN", "0NNN-NNNNNNN", "0NNNNNNNNNN", "0049 NNN NNNNNNN"),
        ("+49 NNN NNNNNNN", "+49NNNNNNNNNN"),
    ),
    (2, 2): (
        ("0NN NNNNNNNN", "(0NN) NNNNNNNN", "0NN/NNNNNNNN", "0049 NN NNNNNNNN"),
        ("+49 NN NNNNNNNN", "+49 (0)NN NNNNNNNN"),
    ),
    (3, 1): (_FR_LOCAL, _FR_INTL),
    (3, 2): (_FR_LOCAL, _FR_INTL),
    (5, 1): (("0NNN NNN NNN", "0NNNNNNNNN"), ("+61 NNN NNN NNN", "+61NNNNNNNNN")),
    (5, 2): (("(0N) NNNN NNNN", "0N NNNN NNNN"), ("+61 N NNNN NNNN", "+61NNNNNNNNN")),
}
LOCAL_FORMAT_SHARE = 0.8  # where local formats are allowed, how often people use them
JUNK_PHONES = ("123", "n/a", "0000", "none", "x")


def draw_unique_numbers(
    rng: np.random.Generator, country: np.ndarray, region: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """(kind, national significant number) per owner, redrawn until no two owners share one."""
    m = country.size
    kind = np.zeros(m, dtype=np.int64)
    nsn = np.zeros(m, dtype=np.int64)
    pending = np.arange(m)
    for _ in range(20):
        if pending.size == 0:
            break
        kind[pending], nsn[pending] = _draw_numbers(rng, country[pending], region[pending])
        key = np.array(_CALLING_CODE)[country] * 10**11 + nsn
        _, first_rows = np.unique(key, return_index=True)
        pending = np.setdiff1d(np.arange(m), first_rows)
    return kind, nsn


def e164(nsn: pa.Array, country: np.ndarray) -> pa.Array:
    """'+<calling code><national number>': how Twilio logs a number."""
    cc = vocabulary([f"+{c}" for c in _CALLING_CODE]).take(pa.array(country))
    return join_strings(cc, nsn)


def _draw_numbers(
    rng: np.random.Generator, country: np.ndarray, region: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """(kind, national significant number) for each person, from their region's plan."""
    m = country.size
    nsn_digits = np.array(_NSN_DIGITS)[country]
    kind = np.where(
        np.isin(country, NANP_COUNTRIES),
        0,
        np.where(rng.random(m) < np.array(_MOBILE_SHARE)[country], 1, 2),
    )
    nsn = np.zeros(m, dtype=np.int64)
    nanp = kind == 0
    area = np.array([int(r.area) for r in REGIONS], dtype=np.int64)[region]
    exchange = _NXX[rng.integers(0, _NXX.size, m)]
    line = rng.integers(0, 10_000, m)
    nsn[nanp] = (area * 10**7 + exchange * 10**4 + line)[nanp]
    for c, prefixes in enumerate(_MOBILE_PREFIXES):
        rows = np.flatnonzero((kind == 1) & (country == c))
        if rows.size == 0:
            continue
        chosen = np.array(prefixes)[rng.integers(0, len(prefixes), rows.size)]
        width = np.char.str_len(chosen).astype(np.int64)
        rest = nsn_digits[rows] - width
        nsn[rows] = chosen.astype(np.int64) * 10**rest + rng.integers(0, 10**rest)
    land = np.flatnonzero(kind == 2)
    if land.size:
        reg = region[land]
        area_len = np.array([len(r.area) for r in REGIONS], dtype=np.int64)[reg]
        firsts = [r.first_digits or "0" for r in REGIONS]
        first_count = np.array([len(f) for f in firsts], dtype=np.int64)[reg]
        first_table = np.full((len(REGIONS), 10), 0, dtype=np.int64)
        for i, digits in enumerate(firsts):
            first_table[i, : len(digits)] = [int(d) for d in digits]
        first = first_table[reg, pick_index(rng, first_count)]
        rest = nsn_digits[land] - area_len - 1
        nsn[land] = (area[land] * 10 + first) * 10**rest + rng.integers(0, 10**rest)
    return kind, nsn


def render_numbers(
    nsn: pa.Array,
    at: np.ndarray,
    country: np.ndarray,
    kind: np.ndarray,
    use_local: np.ndarray,
    pick: np.ndarray,
) -> pa.Array:
    """nsn[at] written in a local or international template of its country and kind.

    `pick` (uniform in [0, 1)) chooses among the allowed templates, so the caller owns the draws.
    """
    groups: list[tuple[np.ndarray, pa.Array]] = []
    for (c, k), (local_formats, intl_formats) in _PHONE_TEMPLATES.items():
        for is_local, formats in ((True, local_formats), (False, intl_formats)):
            in_set = (country == c) & (kind == k) & (use_local == is_local)
            chosen = np.minimum((pick * len(formats)).astype(np.int64), len(formats) - 1)
            for f, template in enumerate(formats):
                sel = np.flatnonzero(in_set & (chosen == f))
                if sel.size == 0:
                    continue
                groups.append((sel, _render_template(template, nsn.take(pa.array(at[sel])))))
    return assemble(at.size, groups)


def _render_template(template: str, nsn: pa.Array) -> pa.Array:
    """Fill a template's 'N's with the digits of each national number, in order."""
    pieces: list[pa.Array | str] = []
    for part in _template_parts(template):
        if isinstance(part, str):
            pieces.append(part)
        else:
            pieces.append(pc.utf8_slice_codeunits(nsn, part[0], part[1]))
    if len(pieces) == 1 and not isinstance(pieces[0], str):
        return pieces[0]
    return join_strings(*pieces)


def _template_parts(template: str) -> list[str | tuple[int, int]]:
    """'(NNN) NNN-NNNN' -> ['(', (0, 3), ') ', (3, 6), '-', (6, 10)]."""
    parts: list[str | tuple[int, int]] = []
    digit = 0
    i = 0
    while i < len(template):
        j = i
        if template[i] == "N":
            while j < len(template) and template[j] == "N":
                j += 1
            parts.append((digit, digit + j - i))
            digit += j - i
        else:
            while j < len(template) and template[j] != "N":
                j += 1
            parts.append(template[i:j])
        i = j
    return parts
