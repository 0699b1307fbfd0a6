"""A deterministic, vectorised synthetic ecommerce store that fills every raw table (DESIGN §3).

`cohortflow generate` writes it as Parquet; the demo, the dbt tests and the benchmarks load it. It
exists because lifecycle logic can only be trusted on data that looks like a real shop's: skewed
spend, customers who lapse and churn, consumables bought on a cycle, carts abandoned an hour ago,
subscribers who stopped opening, and the dirt every loader delivers.

The store simulates *persons* and derives the raw rows from them:

* registered customers (~55%): a `customers` row, browsing on 1-4 devices, orders for ~72% of
  them (the rest stay prospects), email/SMS consents and campaign messages;
* guest-only buyers (~10%): orders with `customer_id` null but an email and/or phone;
* anonymous visitors (~35%): only `events` with an `anonymous_id`.

Orders follow a renewal process: after each order a buyer either stops for good or orders again
after a lognormal gap, so the chance of another order falls with the time since the last one.
A few big spenders order very often; consumable buyers re-order on their product's
`replenishment_days` cycle until they stop (and become overdue). This yields VIP, repeat, new,
lapsed and churned customers in plausible shares.

Everything derives from `numpy.random.Generator(PCG64(seed))` with array operations (no per-row
Python loops; loops only run over rounds, countries, formats and other small fixed sets), so the
same `(persons, seed, until)` gives byte-identical tables and 1M persons take well under two
minutes. Strings are built with pyarrow compute kernels or straight from numpy byte buffers.

Dirty data, at the rates of `DIRTY_RATES` (a per-row probability unless said otherwise):

=============================  ======  ==========================================================
rate                           value   what
=============================  ======  ==========================================================
email_case_or_padding          0.08    valid emails in customers, orders, events, consents written
                                       with mixed case and/or padding ('  Jane.Doe@Example.COM ')
invalid_email                  0.01    emails in customers and orders replaced by an unusable
                                       value ('jane.doe@', 'jane.doe', 'n/a', 'none')
junk_phone                     0.01    phones in customers and orders replaced by junk ('123',
                                       'n/a', '0000', 'none', 'x')
duplicate_rows                 0.01    extra exact copies of rows of customers, orders and events
test_address_customers         0.002   customers using the shared 'test@example.com' (at least
                                       `test_address_min_customers` = 8 of them)
duplicate_accounts             0.005   registered persons with a second customer_id, same email
guest_checkout_by_customer     0.03    a registered customer's orders placed as guest (no
                                       customer_id, same email)
null_country                   0.02    customers with country null
null_timezone                  0.05    customers with timezone null (includes null country)
null_first_name                0.02    customers with first_name null
null_last_name                 0.04    customers with last_name null
cancelled_orders               0.03    orders with status 'cancelled'
refunded_orders                0.02    orders with status 'refunded'
=============================  ======  ==========================================================

Phones are written in the formats people type. In `customers`, where `country` is set, they use the
country's local or international formats ('(415) 555-0134', '020 7946 0958', '0049 30 1234567',
'+1 415-555-0134'); with country null they are international ('+44 20 7946 0958'). Where a row
has no country (orders, consents) US and Canadian numbers use local NANP formats and all others an
international '+' format, so region 'US' parses them. `message_events` carry E.164 (as Twilio
logs them) and lowercase emails (as ESPs export them). Every non-junk phone is a valid number for
`phonenumbers.is_valid_number`. Events before an `identify` carry only `anonymous_id`.

Message history covers the last 180 days (what an ESP export keeps); the rest spans 3 years.
All money is USD; order totals are the sum of their lines plus 5.99 shipping under 50.

The ground truth for identity resolution (every raw identifier, normalised, mapped to its person)
is returned only on request (`with_truth=True` or `generate_truth`) and never written to Parquet.
The shared test address belongs to nobody and is left out of it.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from activations.raw_contract import (
    CONSENT_STATUSES,
    DECIMAL_PRECISION,
    DECIMAL_SCALE,
    EVENT_TYPES,
    MESSAGE_CHANNELS,
    MESSAGE_EVENT_TYPES,
    ORDER_STATUSES,
    RAW_TABLES,
    RAW_TABLES_BY_NAME,
    LogicalType,
)

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

# ----------------------------------------------------------------------------------------------
# Public constants


@dataclass(frozen=True)
class DirtyRates:
    """How often each kind of dirt appears; see the module docstring for what each one means.

    A frozen value so a caller can build a cleaner or dirtier store with `dataclasses.replace`
    while the documented defaults stay fixed (tests measure the output against them).
    """

    email_case_or_padding: float = 0.08
    invalid_email: float = 0.01
    junk_phone: float = 0.01
    duplicate_rows: float = 0.01
    test_address_customers: float = 0.002
    test_address_min_customers: int = 8
    duplicate_accounts: float = 0.005
    guest_checkout_by_customer: float = 0.03
    null_country: float = 0.02
    null_timezone: float = 0.05
    null_first_name: float = 0.02
    null_last_name: float = 0.04
    cancelled_orders: float = 0.03
    refunded_orders: float = 0.02


DIRTY_RATES = DirtyRates()

TEST_ADDRESS = "test@example.com"
"""The shared address typed by staff and testers on many customer accounts."""

TRUTH_TABLE = "identity_truth"
"""Key of the ground-truth table in `generate_store(..., with_truth=True)`; never written."""

HISTORY_DAYS = 3 * 365
MESSAGE_HISTORY_DAYS = 180

TRUTH_SCHEMA = pa.schema(
    [
        pa.field("identifier_type", pa.string()),
        pa.field("identifier_value", pa.string()),
        pa.field("person_index", pa.int64()),
    ]
)

# ----------------------------------------------------------------------------------------------
# Time units (int64 microseconds since the epoch, naive UTC)

_SEC = 1_000_000
_MIN = 60 * _SEC
_HOUR = 60 * _MIN
_DAY = 24 * _HOUR
_NEVER = np.iinfo(np.int64).max

_REGISTERED, _GUEST, _ANONYMOUS = 0, 1, 2
_PERSON_MIX = (0.55, 0.10, 0.35)
_PROSPECT_SHARE = 0.28  # registered customers who never order

_ARROW_TYPES: dict[LogicalType, pa.DataType] = {
    "text": pa.string(),
    "timestamp": pa.timestamp("us"),
    "decimal": pa.decimal128(DECIMAL_PRECISION, DECIMAL_SCALE),
    "integer": pa.int64(),
}

# ----------------------------------------------------------------------------------------------
# Geography: countries, regions (area codes / cities with their IANA time zone), phone plans

_COUNTRIES = ("US", "GB", "DE", "FR", "CA", "AU")
_COUNTRY_SHARE = (0.60, 0.12, 0.07, 0.05, 0.09, 0.07)
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

_US_AREAS = {
    "America/New_York": "212 646 718 917 347 516 617 857 215 267 404 678 305 786 407 813 202 703 "
    "301 410 704 919 216 412 203 201 973",
    "America/Detroit": "313",
    "America/Chicago": "312 773 872 713 832 214 469 972 512 210 612 651 314 414 615 504 901 316",
    "America/Denver": "303 720 801 505 406",
    "America/Phoenix": "602 480",
    "America/Los_Angeles": "213 310 323 415 408 510 650 619 858 949 714 818 206 425 503 702 916",
    "America/Anchorage": "907",
    "Pacific/Honolulu": "808",
}
_CA_AREAS = {
    "America/Toronto": "416 647 905 613 514 438",
    "America/Vancouver": "604 778",
    "America/Edmonton": "403 587 780",
    "America/Winnipeg": "204",
    "America/Halifax": "902",
}


@dataclass(frozen=True)
class _Region:
    """Where a person lives: country, IANA zone and the landline area code (NANP area code)."""

    country: int
    timezone: str
    area: str
    first_digits: str  # allowed first digit of the subscriber number after the area code
    weight: float


def _regions() -> tuple[_Region, ...]:
    """The region table: a person's region fixes country, time zone and phone area together."""
    regions: list[_Region] = []
    for country, areas in ((0, _US_AREAS), (4, _CA_AREAS)):
        for zone, codes in areas.items():
            for code in codes.split():
                regions.append(_Region(country, zone, code, "", 1.0))
    regions += [
        _Region(1, "Europe/London", "20", "378", 1.0),
        _Region(2, "Europe/Berlin", "30", "23456789", 0.5),
        _Region(2, "Europe/Berlin", "89", "23456789", 0.3),
        _Region(2, "Europe/Berlin", "40", "23456789", 0.2),
        _Region(3, "Europe/Paris", "1", "0123456789", 0.6),
        _Region(3, "Europe/Paris", "4", "123456789", 0.4),
        _Region(5, "Australia/Sydney", "2", "89", 0.4),
        _Region(5, "Australia/Melbourne", "3", "9", 0.3),
        _Region(5, "Australia/Brisbane", "7", "3", 0.2),
        _Region(5, "Australia/Perth", "8", "9", 0.1),
    ]
    return tuple(regions)


_REGIONS = _regions()
_REGION_COUNTRY = np.array([r.country for r in _REGIONS], dtype=np.int64)
_TIMEZONES = tuple(sorted({r.timezone for r in _REGIONS}))
_REGION_TZ = np.array([_TIMEZONES.index(r.timezone) for r in _REGIONS], dtype=np.int64)


def _region_probabilities() -> np.ndarray:
    """Region weights normalised within each country, then scaled by the country share."""
    weights = np.array([r.weight for r in _REGIONS])
    probs = np.zeros(len(_REGIONS))
    for country, share in enumerate(_COUNTRY_SHARE):
        mask = _REGION_COUNTRY == country
        probs[mask] = share * weights[mask] / weights[mask].sum()
    normalised: np.ndarray = probs / probs.sum()
    return normalised


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
_LOCAL_FORMAT_SHARE = 0.8  # where local formats are allowed, how often people use them
_JUNK_PHONES = ("123", "n/a", "0000", "none", "x")

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

# Names per locale; 'Display:ascii' gives the spelling used in email addresses.
_NAMES = {
    "en": (
        "James Mary Robert Patricia John Jennifer Michael Linda David Elizabeth William Barbara "
        "Richard Susan Joseph Jessica Thomas Sarah Christopher Karen Charles Lisa Daniel Nancy "
        "Matthew Betty Anthony Sandra Mark Margaret Donald Ashley Steven Kimberly Andrew Emily "
        "Paul Donna Joshua Michelle Kevin Amanda Brian Melissa George Deborah Timothy Stephanie "
        "Ethan Olivia Noah Emma Liam Ava Mason Sophia Lucas Isabella Oliver Mia Jack Charlotte "
        "Harry Amelia Chloe Grace Ella Zoe Hannah Lily Ryan Nathan Tyler Aaron Priya Wei Mei Raj "
        "Aisha Omar Sofia Diego Carlos Lucia Mateo Jamal Keisha",
        "Smith Johnson Williams Brown Jones Garcia Miller Davis Rodriguez Martinez Hernandez Lopez "
        "Gonzalez Wilson Anderson Thomas Taylor Moore Jackson Martin Lee Perez Thompson White "
        "Harris Sanchez Clark Ramirez Lewis Robinson Walker Young Allen King Wright Scott Torres "
        "Nguyen Hill Flores Green Adams Nelson Baker Hall Rivera Campbell Mitchell Carter Roberts "
        "Patel Kim Chen Singh Wang O'Brien:obrien O'Connor:oconnor Murphy Kelly Evans Hughes "
        "Edwards Wood Turner Cooper Ward Morris Price Bennett Gray Brooks Fisher Reed Cook Morgan "
        "Bell Murray Watson MacDonald Stewart",
    ),
    "de": (
        "Lukas Leon Finn Jonas Paul Felix Maximilian Elias Noah Luis Ben Jürgen:juergen Klaus Uwe "
        "Stefan Thomas Michael Andreas Sabine Anna Emma Mia Hannah Lena Lea Marie Sophie Laura "
        "Julia Katharina Ursula Monika Petra Birgit Jörg:joerg Günter:guenter",
        "Müller:mueller Schmidt Schneider Fischer Weber Meyer Wagner Becker Schulz Hoffmann "
        "Schäfer:schaefer Koch Bauer Richter Klein Wolf Schröder:schroeder Neumann Schwarz "
        "Zimmermann Braun Krüger:krueger Hofmann Hartmann Lange Schmitt Werner Krause Meier "
        "Lehmann",
    ),
    "fr": (
        "Gabriel Louis Raphaël:raphael Jules Adam Lucas Léo:leo Hugo Arthur Nathan Jean Pierre "
        "Michel Philippe Alain Nicolas Julien Camille Léa:lea Manon Chloé:chloe Inès:ines Jade "
        "Louise Zoé:zoe Marie Nathalie Isabelle Sylvie Catherine Hélène:helene Céline:celine "
        "Amélie:amelie",
        "Martin Bernard Dubois Thomas Robert Richard Petit Durand Leroy Moreau Simon Laurent "
        "Lefèvre:lefevre Michel Garcia David Bertrand Roux Vincent Fournier Morel Girard "
        "André:andre Lefebvre Mercier Dupont Lambert Bonnet François:francois Martinez",
    ),
}
_COUNTRY_LOCALE = ("en", "en", "de", "fr", "en", "en")

# ----------------------------------------------------------------------------------------------
# Catalogue: (category, replenishment options for consumables, median price, count, nouns,
# adjectives, variants). Pet Supplies mixes consumable food with durable goods (nouns marked
# '*'); 'Noun=a/b' gives a noun its own variants when the category's do not fit it.

_CATALOGUE: tuple[tuple[str, tuple[int, ...], float, int, str, str, str], ...] = (
    ("Coffee & Tea", (30, 45), 18.0, 45,
     "Whole Bean Coffee|Ground Coffee|Espresso Blend|Cold Brew Pack|Green Tea|Earl Grey|"
     "Chai Concentrate|Matcha Powder|Decaf Blend",
     "Colombia|Ethiopia Yirgacheffe|Sumatra|House|Breakfast|Guatemala|Kenya AA|Organic",
     "250g|500g|1kg|20 bags|50 bags"),
    ("Skincare", (60, 90), 28.0, 50,
     "Daily Moisturizer|Vitamin C Serum|Gentle Cleanser|SPF 30 Sunscreen|Night Cream|Eye Cream|"
     "Exfoliating Toner|Lip Balm|Body Lotion",
     "Hydrating|Renewing|Sensitive|Brightening|Oil-Free|Calming",
     "30ml|50ml|100ml|200ml"),
    ("Supplements", (30, 60), 25.0, 30,
     "Multivitamin|Omega-3|Vitamin D3|Magnesium|Protein Powder|Collagen Peptides|Probiotic|"
     "Electrolyte Mix",
     "Daily|Plant-Based|Sport|Women's|Men's",
     "30 servings|60 capsules|90 capsules|1kg"),
    ("Pet Supplies", (30, 45), 24.0, 35,
     "Dry Dog Food|Wet Cat Food=12 x 85g/24 x 85g|Cat Litter=5kg/10kg|Dog Treats=200g/500g|"
     "Rope Toy*=Small/Large|Pet Bed*=Small/Medium/Large|Leash*=Red/Black/Navy|"
     "Collar*=Small/Medium/Large|Scratching Post*=60cm/90cm",
     "Natural|Everyday|Premium|Classic",
     "2kg|6kg|12kg"),
    ("Home & Kitchen", (), 35.0, 60,
     "Ceramic Mug|Pour-Over Kettle|French Press|Linen Napkins|Cutting Board|Scented Candle|"
     "Glass Storage Jar|Chef's Knife|Throw Blanket",
     "Stoneware|Walnut|Matte Black|Classic|Nordic|Hand-Thrown",
     "Set of 2|Set of 4|Small|Large|Sand|Charcoal"),
    ("Apparel", (), 45.0, 70,
     "Crew Tee|Hoodie|Joggers|Denim Jacket|Merino Sweater|Rain Jacket|Socks 3-Pack|Beanie",
     "Organic Cotton|Relaxed|Slim|Heavyweight|Recycled",
     "Black|Navy|Oatmeal|Olive|Grey"),
    ("Accessories", (), 38.0, 40,
     "Canvas Tote|Leather Wallet|Water Bottle|Sunglasses|Backpack|Card Holder|Travel Pouch",
     "Everyday|Classic|Minimal|Weekender|Insulated",
     "Black|Tan|Forest|Stone"),
    ("Gifts", (), 55.0, 25,
     "Gift Card|Coffee Lovers Box|Spa Gift Set|Tea Sampler|Holiday Hamper",
     "Deluxe|Classic|Mini|Seasonal",
     "Edition|Bundle|Collection"),
)  # fmt: skip

_CAMPAIGN_THEMES = (
    "weekly-newsletter",
    "new-arrivals",
    "flash-sale",
    "back-in-stock",
    "bestsellers",
    "restock-reminder",
    "vip-early-access",
    "seasonal-edit",
    "free-shipping-weekend",
    "customer-favourites",
)
_SMS_THEMES = ("flash-sale", "last-chance", "new-drop", "vip-offer")

# ----------------------------------------------------------------------------------------------
# Public API


def generate_store(
    persons: int,
    seed: int,
    until: datetime,
    *,
    progress: Callable[[str], None] | None = None,
    with_truth: bool = False,
    dirty: DirtyRates = DIRTY_RATES,
) -> dict[str, pa.Table]:
    """Generate one store: a pyarrow.Table per RAW_TABLES entry, in contract column order/types.

    Types: text -> pa.string(), timestamp -> pa.timestamp('us') (naive UTC), decimal ->
    pa.decimal128(18, 2), integer -> pa.int64(). `until` ends the ~3-year history (a naive
    datetime is taken as UTC); every timestamp is <= until. The same arguments give
    byte-identical tables. `progress` is called with a short step name as each table is built.
    With `with_truth=True` the dict also holds TRUTH_TABLE (identifier -> person index), which
    `write_store` never writes.
    """
    if persons < 1:
        raise ValueError("persons must be at least 1")
    builder = _StoreBuilder(persons, seed, until, dirty, progress)
    tables = builder.build()
    if with_truth:
        tables[TRUTH_TABLE] = builder.truth()
    return tables


def generate_truth(
    persons: int, seed: int, until: datetime, *, dirty: DirtyRates = DIRTY_RATES
) -> pa.Table:
    """The identity ground truth of `generate_store(persons, seed, until)`.

    Columns identifier_type ('customer_id', 'email', 'phone', 'anonymous_id'), identifier_value
    (normalised: trimmed lowercase email, E.164 phone) and person_index. Only identifiers that
    appear, usable, in at least one raw row are listed. It regenerates the whole store (the RNG
    stream is shared), so call generate_store(with_truth=True) when you need both.
    """
    return generate_store(persons, seed, until, with_truth=True, dirty=dirty)[TRUTH_TABLE]


def write_store(tables: dict[str, pa.Table], out_dir: Path) -> dict[str, int]:
    """Write <table>.parquet for each contract table into out_dir; return row counts per table.

    Keys that are not contract tables (the identity truth) are skipped on purpose: the truth must
    never reach the warehouse the identity models are evaluated on.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    counts: dict[str, int] = {}
    for name, table in tables.items():
        if name not in RAW_TABLES_BY_NAME:
            continue
        pq.write_table(table, out / f"{name}.parquet", compression="zstd")
        counts[name] = table.num_rows
    return counts


# ----------------------------------------------------------------------------------------------
# Small vectorised helpers


def _to_epoch_us(moment: datetime) -> int:
    """Microseconds since the epoch for a naive-UTC or aware datetime (exact integer arithmetic)."""
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC).replace(tzinfo=None)
    delta = moment - datetime(1970, 1, 1)
    return (delta.days * 86_400 + delta.seconds) * _SEC + delta.microseconds


def _expand(counts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Parent index and rank within the parent for `counts[i]` children of each parent i."""
    counts = counts.astype(np.int64)
    parent = np.repeat(np.arange(counts.size, dtype=np.int64), counts)
    starts = np.cumsum(counts) - counts
    rank = np.arange(parent.size, dtype=np.int64) - starts[parent]
    return parent, rank


_CHUNK = 1 << 20


def _coded(
    prefix: str,
    numbers: np.ndarray,
    width: int,
    base: int = 10,
    transform: Callable[[np.ndarray], np.ndarray] | None = None,
) -> pa.Array:
    """Fixed-width ids ('ord_00001234') written straight into an Arrow buffer: no Python strings.

    Works in chunks so the integer temporaries stay small next to the output (events have
    ~13M ids at 1M persons).
    """
    alphabet = np.frombuffer(b"0123456789abcdef", dtype=np.uint8)
    head = np.frombuffer(prefix.encode("ascii"), dtype=np.uint8)
    n = int(numbers.size)
    row = head.size + width
    if n * row >= 2**31:
        raise ValueError("column too large for 32-bit string offsets")
    data = np.empty((n, row), dtype=np.uint8)
    data[:, : head.size] = head
    divisor = np.uint64(base)
    for lo in range(0, n, _CHUNK):
        value = numbers[lo : lo + _CHUNK].astype(np.uint64)
        if transform is not None:
            value = transform(value)
        block = data[lo : lo + _CHUNK]
        for column in range(row - 1, head.size - 1, -1):
            block[:, column] = alphabet[value % divisor]
            value //= divisor
    offsets = np.arange(0, (n + 1) * row, row, dtype=np.int32)
    return pa.Array.from_buffers(pa.string(), n, [None, pa.py_buffer(offsets), pa.py_buffer(data)])


def _scrambled_hex(numbers: np.ndarray, salt: int, width: int = 12, prefix: str = "") -> pa.Array:
    """Random-looking but collision-free hex ids: a bijection of the integers mod 16**width."""
    bits = 4 * width
    mask = np.uint64((1 << bits) - 1)
    multiplier_a = np.uint64((0x9E3779B97F4A7C15 & int(mask)) | 1)
    multiplier_b = np.uint64((0xBF58476D1CE4E5B9 & int(mask)) | 1)
    offset = np.uint64(salt & int(mask))

    def mix(value: np.ndarray) -> np.ndarray:
        value = (value * multiplier_a + offset) & mask
        value ^= value >> np.uint64(bits // 2)
        value = (value * multiplier_b) & mask
        value ^= value >> np.uint64(bits // 3)
        return value

    return _coded(prefix, numbers, width, base=16, transform=mix)


def _decimal_from_cents(cents: np.ndarray) -> pa.Array:
    """DECIMAL(18, 2) from integer cents without Python Decimal objects.

    Each value is a 128-bit two's complement integer: low word = cents, high word = its sign.
    Arrow uses native byte order, little-endian on every platform this project supports.
    """
    words = np.empty((cents.size, 2), dtype="<i8")
    words[:, 0] = cents
    words[:, 1] = cents >> 63
    return pa.Array.from_buffers(
        pa.decimal128(DECIMAL_PRECISION, DECIMAL_SCALE), cents.size, [None, pa.py_buffer(words)]
    )


def _timestamps(us: np.ndarray) -> pa.Array:
    """timestamp('us') column from int64 microseconds (naive, UTC by convention)."""
    return pa.array(us.astype(np.int64), type=pa.timestamp("us"))


def _take(values: pa.Array, index: np.ndarray, present: np.ndarray | None = None) -> pa.Array:
    """values[index] with nulls where `present` is False (or index < 0)."""
    mask = index < 0 if present is None else ~present | (index < 0)
    safe = np.where(mask, 0, index)
    return values.take(pa.array(safe, mask=mask))


def _overlay(base: pa.Array, positions: np.ndarray, replacement: pa.Array) -> pa.Array:
    """base with base[positions] replaced by `replacement` (in order): a vectorised scatter."""
    if positions.size == 0:
        return base
    index = np.arange(len(base), dtype=np.int64)
    index[positions] = len(base) + np.arange(positions.size)
    return pa.concat_arrays([base, replacement.cast(base.type)]).take(pa.array(index))


def _assemble(n: int, groups: Sequence[tuple[np.ndarray, pa.Array]]) -> pa.Array:
    """One array of length n from string arrays built for disjoint row subsets covering 0..n-1."""
    if not groups:
        return pa.nulls(n, pa.string())
    positions = np.concatenate([rows for rows, _ in groups])
    values = pa.concat_arrays([vals.cast(pa.string()) for _, vals in groups])
    inverse = np.empty(n, dtype=np.int64)
    inverse[positions] = np.arange(positions.size)
    return values.take(pa.array(inverse))


def _join(*parts: pa.Array | str) -> pa.Array:
    """Element-wise concatenation of string arrays and literals."""
    return pc.binary_join_element_wise(*parts, "")


def _squash(values: np.ndarray | pa.Array | Sequence[str]) -> pa.Array:
    """A small vocabulary as a pa.string() array, ready for `take`."""
    return pa.array(values, type=pa.string())


def _normal_cdf(x: np.ndarray) -> np.ndarray:
    """Logistic approximation of the standard normal CDF (max error ~0.01; plenty for choices)."""
    return 1.0 / (1.0 + np.exp(-1.702 * x))


def _pick_index(rng: np.random.Generator, sizes: np.ndarray) -> np.ndarray:
    """A uniform index below sizes[i] for each i (sizes >= 1)."""
    picked: np.ndarray = np.minimum((rng.random(sizes.size) * sizes).astype(np.int64), sizes - 1)
    return picked


def _with_copies(rng: np.random.Generator, n: int, rate: float) -> np.ndarray:
    """Row indices 0..n-1 plus ~rate extra exact copies, each copy right after its original."""
    copies = np.flatnonzero(rng.random(n) < rate)
    rows: np.ndarray = np.sort(np.concatenate([np.arange(n, dtype=np.int64), copies]))
    return rows


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


def _render_template(template: str, nsn: pa.Array) -> pa.Array:
    pieces: list[pa.Array | str] = []
    for part in _template_parts(template):
        if isinstance(part, str):
            pieces.append(part)
        else:
            pieces.append(pc.utf8_slice_codeunits(nsn, part[0], part[1]))
    if len(pieces) == 1 and not isinstance(pieces[0], str):
        return pieces[0]
    return _join(*pieces)


def _name_vocab() -> tuple[dict[str, tuple[int, int, int, int]], list[str], list[str]]:
    """Flattened name lists: per locale (first offset, first count, last offset, last count)."""
    display: list[str] = []
    ascii_: list[str] = []
    spans: dict[str, tuple[int, int, int, int]] = {}
    for locale, (firsts, lasts) in _NAMES.items():
        span: list[int] = []
        for words in (firsts.split(), lasts.split()):
            span += [len(display), len(words)]
            for word in words:
                shown, _, plain = word.partition(":")
                display.append(shown)
                ascii_.append(plain or shown.lower().replace("'", ""))
        spans[locale] = (span[0], span[1], span[2], span[3])
    return spans, display, ascii_


# ----------------------------------------------------------------------------------------------
# The builder


@dataclass
class _Sessions:
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


@dataclass
class _Messages:
    """One channel's messages (per message: person, campaign, send time) and their event rows."""

    person: np.ndarray
    campaign: np.ndarray
    sent: np.ndarray
    names: list[str]
    row_message: np.ndarray
    row_type: np.ndarray
    row_time: np.ndarray
    opt_out_person: np.ndarray
    opt_out_at: np.ndarray
    opt_out_complaint: np.ndarray


class _StoreBuilder:
    """Holds the person-level simulation; one method per raw table, called in a fixed order.

    The order of RNG draws is part of the output, so methods run exactly once, in `build`.
    """

    # Person-level contact state, filled by `_contacts` and read by every table step.
    email_pos: np.ndarray
    email_local: pa.Array
    email_domain: pa.Array
    email_canon: pa.Array
    email_early_unsub_at: np.ndarray
    sms_early_unsub_at: np.ndarray

    def __init__(
        self,
        persons: int,
        seed: int,
        until: datetime,
        dirty: DirtyRates,
        progress: Callable[[str], None] | None,
    ) -> None:
        self.n = persons
        self.seed = seed
        self.rng = np.random.Generator(np.random.PCG64(seed))
        self.until = _to_epoch_us(until)
        self.start = self.until - HISTORY_DAYS * _DAY
        self.dirty = dirty
        self.progress = progress or (lambda step: None)
        self.email_seen = np.zeros(persons, dtype=bool)
        self.phone_seen = np.zeros(persons, dtype=bool)

    # -- orchestration -------------------------------------------------------------------------

    def build(self) -> dict[str, pa.Table]:
        tables: dict[str, pa.Table] = {}
        self.progress("persons")
        self._persons()
        self._contacts()
        steps: tuple[tuple[str, Callable[[], pa.Table]], ...] = (
            ("products", self._products),
            ("customers", self._customers),
            ("orders", self._orders),
            ("order_items", self._order_items),
            ("events", self._events),
            ("message_events", self._message_events),
            ("consents", self._consents),
        )
        for name, step in steps:
            self.progress(name)
            tables[name] = step()
            # Hand freed Arrow buffers back to the OS so the next table's peak starts lower.
            pa.default_memory_pool().release_unused()
        return {spec.name: self._conform(spec.name, tables[spec.name]) for spec in RAW_TABLES}

    @staticmethod
    def _conform(name: str, table: pa.Table) -> pa.Table:
        """Check the table against the contract; a mismatch is a generator bug, so fail loudly."""
        spec = RAW_TABLES_BY_NAME[name]
        schema = pa.schema([pa.field(c.name, _ARROW_TYPES[c.type]) for c in spec.columns])
        if table.schema != schema:
            raise AssertionError(f"{name}: {table.schema} != contract {schema}")
        return table

    # -- persons -------------------------------------------------------------------------------

    def _persons(self) -> None:
        """Who exists: kind, arrival time, region (country + zone + area), names, devices."""
        n, rng = self.n, self.rng
        self.kind = rng.choice(3, size=n, p=_PERSON_MIX).astype(np.int8)
        span = self.until - self.start
        # The shop grows: arrival density rises over the history (∝ t^0.6).
        self.arrival = self.start + (rng.random(n) ** (1 / 1.6) * (span - _HOUR)).astype(np.int64)
        self.region = rng.choice(len(_REGIONS), size=n, p=_region_probabilities())
        self.country = _REGION_COUNTRY[self.region]
        spans, display, ascii_ = _name_vocab()
        self.name_display = _squash(display)
        self.name_ascii = _squash(ascii_)
        locale = np.array([list(spans).index(_COUNTRY_LOCALE[c]) for c in range(6)])[self.country]
        table = np.array([spans[name] for name in spans], dtype=np.int64)
        self.first_name = table[locale, 0] + _pick_index(rng, table[locale, 1])
        self.last_name = table[locale, 2] + _pick_index(rng, table[locale, 3])
        registered = self.kind == _REGISTERED
        signup_lag = np.where(
            rng.random(n) < 0.4, rng.uniform(2 * _MIN, 30 * _MIN, n), rng.exponential(20 * _DAY, n)
        ).astype(np.int64)
        self.created_at = np.where(
            registered, np.minimum(self.arrival + signup_lag, self.until - _MIN), _NEVER
        )
        devices = np.where(
            registered,
            1 + rng.binomial(3, 0.3, n),
            np.where(
                self.kind == _GUEST, 1 + rng.binomial(1, 0.3, n), 1 + rng.binomial(1, 0.15, n)
            ),
        )
        self.devices = devices.astype(np.int64)
        self.device_offset = np.cumsum(self.devices) - self.devices
        self.device_count = int(self.devices.sum())

    def _contacts(self) -> None:
        """Emails and phones per known person (unique per person), plus the test-address users."""
        n, rng = self.n, self.rng
        known = self.kind != _ANONYMOUS
        registered = self.kind == _REGISTERED
        has_email = known & (rng.random(n) < np.where(registered, 0.96, 0.9))
        has_phone = known & (rng.random(n) < np.where(registered, 0.55, 0.45))
        has_phone |= known & ~has_email  # a guest or customer always leaves one way to reach them
        self.has_phone = has_phone
        self._emails(np.flatnonzero(has_email))
        test_count = max(
            self.dirty.test_address_min_customers,
            round(self.dirty.test_address_customers * int(registered.sum())),
        )
        candidates = np.flatnonzero(registered & has_email)
        chosen = rng.choice(candidates, size=min(test_count, candidates.size), replace=False)
        self.is_test = np.zeros(n, dtype=bool)
        self.is_test[chosen] = True
        at = self.email_pos[chosen]
        local, domain = TEST_ADDRESS.split("@")
        self.email_local = _overlay(self.email_local, at, _squash(np.full(at.size, local)))
        self.email_domain = _overlay(self.email_domain, at, _squash(np.full(at.size, domain)))
        self.email_canon = _overlay(self.email_canon, at, _squash(np.full(at.size, TEST_ADDRESS)))
        self._phones(np.flatnonzero(has_phone))

    def _emails(self, owners: np.ndarray) -> None:
        """Canonical (lowercase, trimmed) addresses built from names, unique per person."""
        rng = self.rng
        m = owners.size
        first = self.name_ascii.take(pa.array(self.first_name[owners]))
        last = self.name_ascii.take(pa.array(self.last_name[owners]))
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
            groups.append((rows, _join(*pieces)))
        local = _assemble(m, groups)
        domain_names = sorted({d for table in _EMAIL_DOMAINS for d, _ in table})
        domain_index = np.zeros(m, dtype=np.int64)
        country = self.country[owners]
        for c, table in enumerate(_EMAIL_DOMAINS):
            rows = np.flatnonzero(country == c)
            weights = np.array([w for _, w in table])
            picks = rng.choice(len(table), size=rows.size, p=weights / weights.sum())
            lookup = np.array([domain_names.index(d) for d, _ in table])
            domain_index[rows] = lookup[picks]
        domain = _squash(domain_names).take(pa.array(domain_index))
        # Same name + digits + domain for two people happens; make the later ones unique.
        for _ in range(8):
            codes = pc.dictionary_encode(_join(local, "@", domain)).indices.to_numpy()
            _, first_rows = np.unique(codes, return_index=True)
            clash = np.setdiff1d(np.arange(m), first_rows)
            if clash.size == 0:
                break
            unique_tail = pc.cast(pa.array(owners[clash]), pa.string())
            local = _overlay(local, clash, _join(local.take(pa.array(clash)), ".", unique_tail))
        email = _join(local, "@", domain)
        self.email_local = local
        self.email_domain = domain
        self.email_canon = email
        self.email_pos = np.full(self.n, -1, dtype=np.int64)
        self.email_pos[owners] = np.arange(m)

    def _phones(self, owners: np.ndarray) -> None:
        """National numbers in valid ranges per country, unique per person, and their E.164."""
        m = owners.size
        kind = np.zeros(m, dtype=np.int64)  # 0 NANP, 1 mobile, 2 landline
        nsn = np.zeros(m, dtype=np.int64)
        pending = np.arange(m)
        for _ in range(20):
            if pending.size == 0:
                break
            kind[pending], nsn[pending] = self._draw_numbers(owners[pending])
            key = np.array(_CALLING_CODE)[self.country[owners]] * 10**11 + nsn
            _, first_rows = np.unique(key, return_index=True)
            pending = np.setdiff1d(np.arange(m), first_rows)
        self.phone_kind = np.full(self.n, -1, dtype=np.int64)
        self.phone_kind[owners] = kind
        self.phone_pos = np.full(self.n, -1, dtype=np.int64)
        self.phone_pos[owners] = np.arange(m)
        self.phone_nsn = pc.cast(pa.array(nsn), pa.string())
        cc = _squash([f"+{c}" for c in _CALLING_CODE]).take(pa.array(self.country[owners]))
        self.phone_e164 = _join(cc, self.phone_nsn)

    def _draw_numbers(self, people: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(kind, national significant number) for each person, from their region's plan."""
        rng = self.rng
        m = people.size
        country = self.country[people]
        region = self.region[people]
        nsn_digits = np.array(_NSN_DIGITS)[country]
        kind = np.where(
            np.isin(country, (0, 4)),
            0,
            np.where(rng.random(m) < np.array(_MOBILE_SHARE)[country], 1, 2),
        )
        nsn = np.zeros(m, dtype=np.int64)
        nanp = kind == 0
        area = np.array([int(r.area) for r in _REGIONS], dtype=np.int64)[region]
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
            area_len = np.array([len(r.area) for r in _REGIONS], dtype=np.int64)[reg]
            firsts = [r.first_digits or "0" for r in _REGIONS]
            first_count = np.array([len(f) for f in firsts], dtype=np.int64)[reg]
            first_table = np.full((len(_REGIONS), 10), 0, dtype=np.int64)
            for i, digits in enumerate(firsts):
                first_table[i, : len(digits)] = [int(d) for d in digits]
            first = first_table[reg, _pick_index(rng, first_count)]
            rest = nsn_digits[land] - area_len - 1
            nsn[land] = (area[land] * 10 + first) * 10**rest + rng.integers(0, 10**rest)
        return kind, nsn

    # -- row-level identifiers with dirt -------------------------------------------------------

    def _row_emails(
        self, people: np.ndarray, present: np.ndarray, *, case: float, invalid: float
    ) -> pa.Array:
        """Emails as typed on rows of `people`: dirty case/padding, some invalid; marks seen."""
        rng = self.rng
        pos = self.email_pos[people]
        present = present & (pos >= 0)
        base = _take(self.email_canon, pos, present)
        draw = rng.random(people.size)
        bad = present & (draw < invalid) & ~self.is_test[people]
        messy = present & ~bad & (draw >= invalid) & (draw < invalid + case)
        self.email_seen[people[present & ~bad & ~self.is_test[people]]] = True
        rows = np.flatnonzero(messy)
        variant = rng.integers(0, 5, rows.size)
        canon = base.take(pa.array(rows))
        local = self.email_local.take(pa.array(pos[rows]))
        domain = self.email_domain.take(pa.array(pos[rows]))
        title_local = pc.utf8_title(local)
        messy_values = _assemble(
            rows.size,
            [
                (
                    np.flatnonzero(variant == 0),
                    _join("  ", canon, " ").filter(pa.array(variant == 0)),
                ),
                (
                    np.flatnonzero(variant == 1),
                    _join(title_local, "@", pc.utf8_upper(domain)).filter(pa.array(variant == 1)),
                ),
                (np.flatnonzero(variant == 2), pc.utf8_upper(canon).filter(pa.array(variant == 2))),
                (
                    np.flatnonzero(variant == 3),
                    _join(" ", title_local, "@", domain).filter(pa.array(variant == 3)),
                ),
                (
                    np.flatnonzero(variant == 4),
                    _join(pc.utf8_capitalize(canon), " ").filter(pa.array(variant == 4)),
                ),
            ],
        )
        out = _overlay(base, rows, messy_values)
        rows = np.flatnonzero(bad)
        local = self.email_local.take(pa.array(pos[rows]))
        junk = rng.integers(0, 4, rows.size)
        bad_values = pc.if_else(
            pa.array(junk == 0),
            _join(local, "@"),
            pc.if_else(pa.array(junk == 1), local, _squash(np.array(["n/a", "none"])[junk % 2])),
        )
        return _overlay(out, rows, bad_values)

    def _row_phones(
        self, people: np.ndarray, present: np.ndarray, *, local_ok: np.ndarray, junk: float
    ) -> pa.Array:
        """Phones as typed on rows of `people` in local/international formats; marks seen."""
        rng = self.rng
        pos = self.phone_pos[people]
        present = present & (pos >= 0)
        rows = np.flatnonzero(present)
        country = self.country[people[rows]]
        kind = self.phone_kind[people[rows]]
        use_local = local_ok[rows] & (rng.random(rows.size) < _LOCAL_FORMAT_SHARE)
        pick = rng.random(rows.size)
        groups: list[tuple[np.ndarray, pa.Array]] = []
        for (c, k), (local_formats, intl_formats) in _PHONE_TEMPLATES.items():
            for is_local, formats in ((True, local_formats), (False, intl_formats)):
                in_set = (country == c) & (kind == k) & (use_local == is_local)
                chosen = np.minimum((pick * len(formats)).astype(np.int64), len(formats) - 1)
                for f, template in enumerate(formats):
                    sel = np.flatnonzero(in_set & (chosen == f))
                    if sel.size == 0:
                        continue
                    nsn = self.phone_nsn.take(pa.array(pos[rows[sel]]))
                    groups.append((sel, _render_template(template, nsn)))
        formatted = _assemble(rows.size, groups)
        is_junk = rng.random(rows.size) < junk
        junk_values = _squash(np.array(_JUNK_PHONES)[rng.integers(0, len(_JUNK_PHONES), rows.size)])
        formatted = pc.if_else(pa.array(is_junk), junk_values, formatted)
        self.phone_seen[people[rows[~is_junk]]] = True
        index = np.full(people.size, -1, dtype=np.int64)
        index[rows] = np.arange(rows.size)
        return _take(formatted, index)

    # -- products ------------------------------------------------------------------------------

    def _products(self) -> pa.Table:
        """~350 products in 8 categories; consumables carry replenishment_days (30-90)."""
        rng = self.rng
        titles: list[str] = []
        categories: list[str] = []
        prices: list[int] = []
        replenish: list[int | None] = []
        for category, cycles, median, count, nouns, adjectives, variants in _CATALOGUE:
            noun_list, adj_list, var_list = (
                nouns.split("|"),
                adjectives.split("|"),
                variants.split("|"),
            )
            seen: set[str] = set()
            attempts = 0
            while len(seen) < count and attempts < 100 * count:  # fixed size, not per person
                attempts += 1
                noun, _, own = noun_list[int(rng.integers(len(noun_list)))].partition("=")
                choices = own.split("/") if own else var_list
                title = (
                    f"{adj_list[int(rng.integers(len(adj_list)))]} {noun.rstrip('*')} "
                    f"{choices[int(rng.integers(len(choices)))]}"
                )
                if title in seen:
                    continue
                seen.add(title)
                titles.append(title)
                categories.append(category)
                price = median * math.exp(0.45 * float(rng.standard_normal()))
                prices.append(max(399, int(round(price)) * 100 - 1))  # charm pricing: 24.99
                consumable = bool(cycles) and not noun.endswith("*")
                replenish.append(int(rng.choice(cycles)) if consumable else None)
        count = len(titles)
        self.product_price = np.array(prices, dtype=np.int64)
        self.product_cycle = np.array([r or 0 for r in replenish], dtype=np.int64)
        rank = rng.permutation(count)
        popularity = 1.0 / (rank + 5.0) ** 0.9
        popularity[self.product_cycle > 0] *= 1.5
        self.product_popularity = popularity / popularity.sum()
        by_price = np.argsort(self.product_price, kind="stable")
        self.product_by_price = by_price
        self.product_price_cdf = np.cumsum(self.product_popularity[by_price])
        consumable_ids = np.flatnonzero(self.product_cycle > 0)
        self.consumables = consumable_ids
        self.consumable_p = popularity[consumable_ids] / popularity[consumable_ids].sum()
        self.product_ids = _coded("prod_", np.arange(1, count + 1), 4)
        return pa.table(
            {
                "product_id": self.product_ids,
                "title": _squash(titles),
                "category": _squash(categories),
                "price": _decimal_from_cents(self.product_price),
                "replenishment_days": pa.array(replenish, type=pa.int64()),
            }
        )

    # -- customers -----------------------------------------------------------------------------

    def _customers(self) -> pa.Table:
        """One row per registered person (+ a few second accounts), ids in signup order."""
        rng = self.rng
        registered = np.flatnonzero(self.kind == _REGISTERED)
        has_email = self.email_pos[registered] >= 0
        second = registered[
            has_email & (rng.random(registered.size) < self.dirty.duplicate_accounts)
        ]
        second_created = self.created_at[second] + (
            rng.random(second.size) * (self.until - _MIN - self.created_at[second])
        ).astype(np.int64)
        person = np.concatenate([registered, second])
        created = np.concatenate([self.created_at[registered], second_created])
        order = np.lexsort((person, created))
        person, created = person[order], created[order]
        is_second = np.concatenate([np.zeros(registered.size, bool), np.ones(second.size, bool)])[
            order
        ]
        width = max(8, len(str(person.size)))
        ids = _coded("cus_", np.arange(1, person.size + 1), width)
        self.customer_row = np.full(self.n, -1, dtype=np.int64)
        self.customer_row[person[~is_second]] = np.flatnonzero(~is_second)
        self.customer_ids = ids
        self.customer_person = person
        n = person.size
        country_null = rng.random(n) < self.dirty.null_country
        tz_null = country_null | (
            rng.random(n) < self.dirty.null_timezone - self.dirty.null_country
        )
        email = self._row_emails(
            person,
            np.ones(n, bool),
            case=self.dirty.email_case_or_padding,
            invalid=self.dirty.invalid_email,
        )
        phone = self._row_phones(
            person, ~is_second, local_ok=~country_null, junk=self.dirty.junk_phone
        )
        table = pa.table(
            {
                "customer_id": ids,
                "email": email,
                "phone": phone,
                "first_name": _take(
                    self.name_display,
                    self.first_name[person],
                    rng.random(n) >= self.dirty.null_first_name,
                ),
                "last_name": _take(
                    self.name_display,
                    self.last_name[person],
                    rng.random(n) >= self.dirty.null_last_name,
                ),
                "created_at": _timestamps(created),
                "country": _take(_squash(_COUNTRIES), self.country[person], ~country_null),
                "timezone": _take(_squash(_TIMEZONES), _REGION_TZ[self.region[person]], ~tz_null),
            }
        )
        rows = _with_copies(rng, n, self.dirty.duplicate_rows)
        return table.take(pa.array(rows))

    # -- orders --------------------------------------------------------------------------------

    def _simulate_orders(self) -> None:
        """Renewal process per buyer: stop for good, or re-order after a gap; rounds, not rows."""
        rng = self.rng
        n = self.n
        registered = self.kind == _REGISTERED
        buyer = (registered & (rng.random(n) >= _PROSPECT_SHARE)) | (self.kind == _GUEST)
        buyers = np.flatnonzero(buyer)
        b = buyers.size
        is_reg = registered[buyers]
        same_visit = rng.random(b) < np.where(is_reg, 0.45, 0.65)
        lag = np.where(
            same_visit,
            rng.uniform(2 * _MIN, 40 * _MIN, b),
            rng.exponential(np.where(is_reg, 30, 8) * _DAY, b),
        ).astype(np.int64)
        first = np.where(is_reg, self.created_at[buyers], self.arrival[buyers]) + lag
        cutoff = self.until - 10 * _MIN
        # Per-buyer behaviour: big spenders, consumable habits, everyone else.
        big = is_reg & (rng.random(b) < 0.012)
        habit = ~big & (rng.random(b) < np.where(is_reg, 0.25, 0.10))
        habit_product = np.full(b, -1, dtype=np.int64)
        habit_product[habit] = rng.choice(
            self.consumables, size=int(habit.sum()), p=self.consumable_p
        )
        cycle = np.where(habit, self.product_cycle[habit_product] * _DAY, 0)
        keep_going = np.where(is_reg, rng.beta(2.0, 3.2, b), rng.beta(1.2, 4.5, b))
        keep_going = np.where(habit, rng.beta(9.0, 2.0, b), keep_going)
        keep_going = np.where(big, 0.95, keep_going)
        gap_median = np.exp(rng.normal(math.log(70.0), 0.45, b)) * _DAY
        gap_median = np.where(big, 18.0 * _DAY, gap_median)
        self.spend = rng.standard_normal(b) + np.where(big, 1.5, 0.0)
        self.buyers = buyers
        self.habit_product = habit_product
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
            when = when + np.maximum(gap, _DAY).astype(np.int64)
            ok = again & (when < cutoff)
            active, when = active[ok], when[ok]
            rounds_b.append(active)
            rounds_t.append(when)
            made += 1
        order_buyer = np.concatenate(rounds_b)
        order_time = np.concatenate(rounds_t) + rng.integers(0, _MIN, order_buyer.size)
        order_time = np.minimum(order_time, cutoff)
        order = np.lexsort((order_buyer, order_time))
        self.order_buyer = order_buyer[order]
        self.order_time = order_time[order]
        self.order_person = buyers[self.order_buyer]
        first_time = np.full(n, _NEVER, dtype=np.int64)
        np.minimum.at(first_time, self.order_person, self.order_time)
        last_time = np.full(n, -1, dtype=np.int64)
        np.maximum.at(last_time, self.order_person, self.order_time)
        self.first_order = first_time
        self.last_order = last_time
        self.order_count = np.bincount(self.order_person, minlength=n)

    def _orders(self) -> pa.Table:
        """Orders (with lines priced now, so totals equal the lines plus shipping)."""
        rng = self.rng
        self._simulate_orders()
        m = self.order_time.size
        person = self.order_person
        registered = self.kind[person] == _REGISTERED
        guest_checkout = registered & (rng.random(m) < self.dirty.guest_checkout_by_customer)
        self._lines(m)
        status = rng.choice(
            3,
            size=m,
            p=[
                1 - self.dirty.cancelled_orders - self.dirty.refunded_orders,
                self.dirty.cancelled_orders,
                self.dirty.refunded_orders,
            ],
        )
        has_email = self.email_pos[person] >= 0
        has_phone = self.phone_pos[person] >= 0
        email_present = has_email & ((rng.random(m) < 0.97) | ~has_phone)
        phone_present = has_phone & ((rng.random(m) < 0.35) | ~email_present)
        email = self._row_emails(
            person,
            email_present,
            case=self.dirty.email_case_or_padding,
            invalid=self.dirty.invalid_email,
        )
        phone = self._row_phones(
            person,
            phone_present,
            local_ok=np.isin(self.country[person], (0, 4)),
            junk=self.dirty.junk_phone,
        )
        width = max(8, len(str(m)))
        self.order_ids = _coded("ord_", np.arange(1, m + 1), width)
        customer = np.where(guest_checkout, -1, self.customer_row[person])
        table = pa.table(
            {
                "order_id": self.order_ids,
                "customer_id": _take(self.customer_ids, customer),
                "email": email,
                "phone": phone,
                "ordered_at": _timestamps(self.order_time),
                "total": _decimal_from_cents(self.order_total),
                "currency": pa.array(np.full(m, "USD"), type=pa.string()),
                "status": _squash(ORDER_STATUSES).take(pa.array(status)),
            }
        )
        rows = _with_copies(rng, m, self.dirty.duplicate_rows)
        return table.take(pa.array(rows))

    def _lines(self, m: int) -> None:
        """Order lines: pricier products and more lines for big spenders; habit product first."""
        rng = self.rng
        buyer = self.order_buyer
        spend = self.spend[buyer]
        habit = self.habit_product[buyer]
        lines = 1 + rng.poisson(0.45 + 0.3 * np.maximum(spend, 0.0))
        lines = np.minimum(lines, 8)
        order, rank = _expand(lines)
        self.line_order, self.line_rank = order, rank
        self.line_start = np.cumsum(lines) - lines
        self.order_lines = lines
        k = order.size
        # Marginally popularity-weighted, but correlated with the buyer's spend level.
        u = _normal_cdf(0.5 * spend[order] + math.sqrt(0.75) * rng.standard_normal(k))
        position = np.minimum(
            np.searchsorted(self.product_price_cdf, u), self.product_by_price.size - 1
        )
        product = self.product_by_price[position]
        first_habit = (rank == 0) & (habit[order] >= 0)
        product = np.where(first_habit, habit[order], product)
        repeated = (rank > 0) & (product == np.roll(product, 1))
        product = np.where(repeated, (product + 1) % self.product_price.size, product)
        quantity = rng.choice([1, 2, 3, 4, 6], size=k, p=[0.8, 0.13, 0.04, 0.02, 0.01])
        quantity = np.where(first_habit & (rng.random(k) < 0.25), 2, quantity)
        discount = rng.choice([100, 90, 80], size=k, p=[0.85, 0.1, 0.05])
        unit = self.product_price[product] * discount // 100
        self.line_product = product
        self.line_quantity = quantity.astype(np.int64)
        self.line_price = unit.astype(np.int64)
        subtotal = np.bincount(order, weights=unit * quantity, minlength=m).astype(np.int64)
        self.order_total = subtotal + np.where(subtotal < 5000, 599, 0)

    def _order_items(self) -> pa.Table:
        return pa.table(
            {
                "order_id": self.order_ids.take(pa.array(self.line_order)),
                "line_number": pa.array(self.line_rank + 1, type=pa.int64()),
                "product_id": self.product_ids.take(pa.array(self.line_product)),
                "quantity": pa.array(self.line_quantity, type=pa.int64()),
                "unit_price": _decimal_from_cents(self.line_price),
            }
        )

    # -- events --------------------------------------------------------------------------------

    def _sessions(self) -> _Sessions:
        """All browsing sessions: ordinary visits, checkouts, and the recent abandoners."""
        rng, n, until = self.rng, self.n, self.until
        kind = self.kind
        registered = kind == _REGISTERED
        orders = self.order_count
        parts: list[_Sessions] = []

        # Ordinary visits. Anonymous visitors come once or a few times soon after arriving.
        visits = np.where(
            kind == _ANONYMOUS,
            rng.geometric(0.55, n),
            rng.poisson(np.where(registered, 0.7, 0.4) + np.where(registered, 0.5, 0.4) * orders),
        )
        person, rank = _expand(visits)
        active_from = self.arrival[person]
        last_seen = np.maximum(
            np.where(registered[person], self.created_at[person], self.arrival[person]),
            self.last_order[person],
        )
        active_to = np.minimum(
            until, last_seen + rng.exponential(60 * _DAY, person.size).astype(np.int64)
        )
        anon = kind[person] == _ANONYMOUS
        start = np.where(
            anon,
            active_from
            + np.where(rank == 0, 0, rng.exponential(15 * _DAY, person.size)).astype(np.int64),
            active_from
            + (rng.random(person.size) * np.maximum(active_to - active_from, 0)).astype(np.int64),
        )
        inside = start < until - _MIN
        parts.append(self._browse(person[inside], start[inside], (rank == 0)[inside], carts=0.12))

        # The signup visit of each customer ends just before created_at (events before identify).
        signup = np.flatnonzero(registered)
        parts.append(
            self._browse(
                signup,
                self.created_at[signup],
                np.ones(signup.size, bool),
                carts=0.0,
                anchored=True,
                views=(0.3, 0.6),
            )
        )

        # Checkout sessions: view and add each line's product, start checkout, then the order.
        m = self.order_time.size
        people = self.order_person
        device = (
            np.where(rng.random(m) < 0.6, 0, _pick_index(rng, self.devices[people]))
            + self.device_offset[people]
        )
        parts.append(
            _Sessions(
                person=people,
                device=device,
                start=self.order_time - rng.integers(30 * _SEC, 5 * _MIN, m),
                page_views=1 + (rng.random(m) < 0.25).astype(np.int64),
                product_views=self.order_lines,
                carts=self.order_lines,
                checkouts=np.ones(m, np.int64),
                order=np.arange(m),
                anchored_end=np.ones(m, bool),
            )
        )

        # Recent abandoners: carts/checkouts in the last 48 h and product views in the last days,
        # by customers with no later order (their device 0 is identified since signup).
        quiet_2d = (
            registered & (self.created_at < until - 2 * _DAY) & (self.last_order < until - 2 * _DAY)
        )
        carts = np.flatnonzero(quiet_2d & (rng.random(n) < 0.015))
        cart_start = until - rng.integers(30 * _MIN, 46 * _HOUR, carts.size)
        cart = self._browse(carts, cart_start, np.ones(carts.size, bool), carts=1.0, min_views=1)
        cart.checkouts = (rng.random(carts.size) < 0.4).astype(np.int64)
        parts.append(cart)
        quiet_7d = (
            registered & (self.created_at < until - 7 * _DAY) & (self.last_order < until - 5 * _DAY)
        )
        browsers = np.flatnonzero(quiet_7d & (rng.random(n) < 0.02))
        browse_start = until - rng.integers(1 * _HOUR, 5 * _DAY, browsers.size)
        browse = self._browse(
            browsers, browse_start, np.ones(browsers.size, bool), carts=0.0, min_views=1
        )
        parts.append(browse)

        return _Sessions(
            **{
                field: np.concatenate([getattr(p, field) for p in parts])
                for field in _Sessions.__dataclass_fields__
            }
        )

    def _browse(
        self,
        person: np.ndarray,
        start: np.ndarray,
        on_first_device: np.ndarray,
        *,
        carts: float,
        anchored: bool = False,
        min_views: int = 0,
        views: tuple[float, float] = (0.8, 1.3),
    ) -> _Sessions:
        """Ordinary sessions: a few page and product views, sometimes a cart and a checkout."""
        rng = self.rng
        k = person.size
        device = np.where(
            on_first_device | (rng.random(k) < 0.5), 0, _pick_index(rng, self.devices[person])
        )
        product_views = np.maximum(rng.poisson(views[1], k), min_views)
        cart = (rng.random(k) < carts) & (product_views > 0)
        cart_count = np.where(cart, np.maximum(1, rng.binomial(product_views, 0.5)), 0)
        return _Sessions(
            person=person,
            device=device + self.device_offset[person],
            start=start.astype(np.int64),
            page_views=1 + rng.poisson(views[0], k),
            product_views=product_views,
            carts=cart_count,
            checkouts=(cart & (rng.random(k) < 0.3)).astype(np.int64),
            order=np.full(k, -1, dtype=np.int64),
            anchored_end=np.full(k, anchored, dtype=bool),
        )

    def _events(self) -> pa.Table:
        """Session events plus one identify per identified device, in time order.

        The biggest table (~13M rows at 1M persons), so it works on int32 indices, drops
        temporaries early and applies the duplicate rows to numpy indices before any string
        column exists (a take on the finished table would double the peak memory).
        """
        rng, until = self.rng, self.until
        s = self._sessions()
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
        offset = np.cumsum(2 * _SEC + rng.exponential(40 * _SEC, e)).astype(np.int64)
        offset -= offset[first_event][session]
        duration = np.zeros(counts.size, dtype=np.int64)
        nonempty = counts > 0
        duration[nonempty] = offset[first_event[nonempty] + counts[nonempty] - 1]
        start = np.where(
            s.anchored_end,
            s.start - duration - 5 * _SEC,
            np.minimum(s.start, until - duration - _SEC),
        )
        occurred = start[session] + offset
        del offset, duration
        # Products: checkout sessions show their order lines; carts re-use the viewed products.
        product = np.full(e, -1, dtype=np.int32)
        of_order = s.order[session]
        from_order = np.flatnonzero((event_type == 1) & (of_order >= 0))
        line = self.line_start[of_order[from_order]] + view_rank[from_order]
        product[from_order] = self.line_product[line]
        browsing = np.flatnonzero((event_type == 1) & (of_order < 0))
        product[browsing] = rng.choice(
            self.product_popularity.size, size=browsing.size, p=self.product_popularity
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
        registered = self.kind == _REGISTERED
        identified = np.full(self.device_count, _NEVER, dtype=np.int64)
        signed_up = np.flatnonzero(registered)
        identified[self.device_offset[signed_up]] = self.created_at[signed_up]
        checkout = np.flatnonzero(s.order >= 0)
        can_identify = registered[s.person[checkout]] | (self.email_pos[s.person[checkout]] >= 0)
        checkout = checkout[can_identify]
        np.minimum.at(identified, s.device[checkout], start[checkout] - _SEC)
        del s, start
        # Identify events, then everything sorted by time, then the duplicate copies.
        devices = np.flatnonzero(identified <= until)
        owner = np.repeat(np.arange(self.n, dtype=np.int32), self.devices)[devices]
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
        rows = _with_copies(rng, e, self.dirty.duplicate_rows)
        by_time = by_time[rows]
        person, device, occurred = person[by_time], device[by_time], occurred[by_time]
        event_type, product = event_type[by_time], product[by_time]
        del by_time
        customer = np.where(
            registered[person] & (occurred >= identified[device]), self.customer_row[person], -1
        )
        # Emails only on identify events; drawn per original row so copies stay exact copies.
        draw = rng.random(e)[rows]
        email_on = (event_type == 4) & (~registered[person] | (draw < 0.6))
        del draw
        carrying = np.flatnonzero(email_on)
        originals, first_copy, inverse = np.unique(
            rows[carrying], return_index=True, return_inverse=True
        )
        typed = self._row_emails(
            person[carrying[first_copy]],
            np.ones(originals.size, dtype=bool),
            case=self.dirty.email_case_or_padding,
            invalid=0.0,
        )
        slot = np.full(rows.size, -1, dtype=np.int64)
        slot[carrying] = inverse
        email = _take(typed, slot)
        del email_on, carrying, originals, first_copy, inverse, slot
        self.device_seen = np.zeros(self.device_count, dtype=bool)
        self.device_seen[device] = True
        columns: dict[str, pa.Array] = {}
        columns["event_id"] = _coded("ev_", rows + 1, max(9, len(str(e))))
        del rows
        columns["anonymous_id"] = _scrambled_hex(device, salt=self.seed * 7919 + 17)
        del device
        columns["customer_id"] = _take(self.customer_ids, customer)
        del customer
        columns["email"] = email
        columns["event_type"] = _squash(EVENT_TYPES).take(pa.array(event_type))
        columns["product_id"] = _take(self.product_ids, product)
        columns["occurred_at"] = _timestamps(occurred)
        self._forget_order_lines()
        return pa.table(columns)

    def _forget_order_lines(self) -> None:
        """Order- and line-level arrays are not needed after the events: free them for the peak."""
        for name in (
            "line_order line_rank line_start line_product line_quantity line_price order_lines "
            "order_time order_person order_buyer order_total spend habit_product"
        ).split():
            delattr(self, name)

    # -- consents and messages -----------------------------------------------------------------

    def _subscriptions(self) -> None:
        """Who opted in to email and SMS, when and where; unsubscribes before the message window."""
        rng, n, until = self.rng, self.n, self.until
        registered = self.kind == _REGISTERED
        guest = self.kind == _GUEST
        email_ok = (self.email_pos >= 0) & ~self.is_test
        buyer = self.first_order < _NEVER
        popup = np.minimum(self.arrival + rng.exponential(_DAY, n).astype(np.int64), until - _MIN)
        # Email: source 0 checkout, 1 popup, 2 account_signup, 3 import.
        email_sub = email_ok & (
            rng.random(n) < np.where(registered, 0.6, np.where(guest, 0.35, 0.0))
        )
        source = np.where(registered, rng.choice(4, size=n, p=[0.3, 0.2, 0.4, 0.1]), 0)
        source = np.where((source == 0) & ~buyer, 1, source)
        source = np.where((source == 3) & (self.created_at > self.start + 365 * _DAY), 2, source)
        when = np.select(
            [source == 0, source == 1], [self.first_order, popup], default=self.created_at
        )
        when = np.where(guest, self.first_order, when)
        email_sub &= when <= until
        self.email_sub_at = np.where(email_sub, when, _NEVER)
        self.email_sub_source = source
        # SMS: source 0 checkout, 1 popup, 2 keyword.
        sms_sub = self.has_phone & (rng.random(n) < 0.22)
        sms_source = rng.choice(3, size=n, p=[0.6, 0.3, 0.1])
        sms_source = np.where((sms_source == 0) & ~buyer, 1, sms_source)
        keyword = self.arrival + (rng.random(n) * (until - self.arrival)).astype(np.int64)
        sms_when = np.select([sms_source == 0, sms_source == 1], [self.first_order, popup], keyword)
        sms_sub &= sms_when <= until
        self.sms_sub_at = np.where(sms_sub, sms_when, _NEVER)
        self.sms_sub_source = sms_source
        window = until - MESSAGE_HISTORY_DAYS * _DAY
        for channel, rate, mean_days in (("email", 0.12, 200), ("sms", 0.08, 150)):
            sub_at = self.email_sub_at if channel == "email" else self.sms_sub_at
            after = rng.exponential(mean_days * _DAY, n).astype(np.int64)
            leave = np.where(sub_at < _NEVER, sub_at + np.minimum(after, _NEVER - sub_at), _NEVER)
            early = (sub_at < _NEVER) & (rng.random(n) < rate) & (leave < window)
            if channel == "email":
                self.email_early_unsub_at = np.where(early, leave, _NEVER)
            else:
                self.sms_early_unsub_at = np.where(early, leave, _NEVER)

    def _campaigns(
        self, every_days: float, themes: Sequence[str], prefix: str
    ) -> tuple[np.ndarray, list[str]]:
        """A send calendar over the message window: send times and campaign names."""
        rng = self.rng
        window = self.until - MESSAGE_HISTORY_DAYS * _DAY
        count = int(MESSAGE_HISTORY_DAYS / every_days)
        times = window + (np.arange(count) * every_days * _DAY).astype(np.int64)
        times += rng.integers(14 * _HOUR, 19 * _HOUR, count)  # sent in the afternoon UTC
        names: list[str] = []
        for moment in times:  # campaign calendar: a fixed number per window, not per person
            day = datetime.fromtimestamp(int(moment) // _SEC, UTC)
            theme = themes[int(rng.integers(len(themes)))]
            if day.month == 11 and day.day >= 20:
                theme = "black-friday"
            elif day.month == 12 and day.day <= 20:
                theme = "holiday-gift-guide"
            names.append(f"{prefix}{day:%Y-%m-%d}-{theme}")
        return times, names

    def _messages(
        self,
        channel: int,
        subscribers: np.ndarray,
        every_days: float,
        per_days: float,
    ) -> _Messages:
        """Messages and their events for one channel (0 email, 1 sms), with opt-outs.

        Engagement decays: a third of the audience goes quiet at some point and from then on
        almost never opens or clicks, so recent sends without engagement pile up for them.
        """
        rng, until = self.rng, self.until
        window = until - MESSAGE_HISTORY_DAYS * _DAY
        themes = _CAMPAIGN_THEMES if channel == 0 else _SMS_THEMES
        times, names = self._campaigns(every_days, themes, "" if channel == 0 else "sms-")
        sub_at = (self.email_sub_at if channel == 0 else self.sms_sub_at)[subscribers]
        early = (self.email_early_unsub_at if channel == 0 else self.sms_early_unsub_at)[
            subscribers
        ]
        alive = early == _NEVER
        begin = np.maximum(sub_at, window)
        low = np.searchsorted(times, begin, side="left")
        count = rng.poisson(np.maximum(until - begin, 0) / (per_days * _DAY))
        count = np.where(alive & (low < times.size), count, 0)
        who, _ = _expand(count)
        pick = low[who] + _pick_index(rng, times.size - low[who])
        key = np.unique(who * times.size + pick)  # one send per campaign; sorted by who, time
        who, campaign = key // times.size, key % times.size
        k = who.size
        sent = times[campaign] + rng.integers(0, 90 * _MIN, k)
        engagement = rng.beta(2.0, 4.0, subscribers.size)[who]
        quiet_since = np.where(
            rng.random(subscribers.size) < 0.33,
            window
            - 60 * _DAY
            + (rng.random(subscribers.size) * (MESSAGE_HISTORY_DAYS + 30) * _DAY).astype(np.int64),
            _NEVER,
        )[who]
        gone_quiet = sent >= quiet_since
        bounced = rng.random(k) < (0.015 if channel == 0 else 0.02)
        if channel == 0:
            opened = ~bounced & (rng.random(k) < np.where(gone_quiet, 0.01, engagement))
            clicked = opened & (rng.random(k) < 0.18)
        else:
            opened = np.zeros(k, bool)
            clicked = ~bounced & (rng.random(k) < np.where(gone_quiet, 0.003, 0.3 * engagement))
        opt_out = ~bounced & (rng.random(k) < np.where(gone_quiet, 0.008, 0.003))
        complaint = opt_out & (channel == 0) & (rng.random(k) < 0.1)
        t_open = sent + _MIN + rng.exponential(4 * _HOUR, k).astype(np.int64)
        t_click = np.where(opened, t_open, sent + _MIN) + rng.exponential(3 * _MIN, k).astype(
            np.int64
        )
        t_out = np.where(opened, t_open, sent) + rng.exponential(2 * _HOUR, k).astype(np.int64)
        opt_out &= t_out <= until
        # After the first opt-out a person receives nothing more on this channel.
        first_of = np.ones(k, dtype=bool)
        first_of[1:] = who[1:] != who[:-1]
        starts = np.flatnonzero(first_of)
        seen: np.ndarray = np.cumsum(opt_out, dtype=np.int64) - opt_out
        seen -= np.repeat(seen[starts], np.diff(np.r_[starts, k]))
        keep: np.ndarray = seen == 0
        # Rows: sent, delivered|bounced, opened, clicked, unsubscribed|complained.
        delivered_at = sent + rng.integers(2 * _SEC, 90 * _SEC, k)
        slots: tuple[tuple[np.ndarray, np.ndarray | int, np.ndarray], ...] = (
            (keep, 0, sent),
            (keep, np.where(bounced, 4, 1), delivered_at),
            (keep & opened, 2, t_open),
            (keep & clicked, 3, t_click),
            (keep & opt_out, np.where(complaint, 6, 5), t_out),
        )
        row_message: list[np.ndarray] = []
        row_type: list[np.ndarray] = []
        row_time: list[np.ndarray] = []
        for on, event_type, at in slots:
            chosen = np.flatnonzero(on & (at <= until))
            row_message.append(chosen.astype(np.int32))
            kind = np.broadcast_to(np.asarray(event_type, dtype=np.int8), (k,))
            row_type.append(kind[chosen])
            row_time.append(at[chosen])
        opted = keep & opt_out
        return _Messages(
            person=subscribers[who].astype(np.int32),
            campaign=campaign.astype(np.int32),
            sent=sent,
            names=names,
            row_message=np.concatenate(row_message),
            row_type=np.concatenate(row_type),
            row_time=np.concatenate(row_time),
            opt_out_person=subscribers[who[opted]],
            opt_out_at=t_out[opted],
            opt_out_complaint=complaint[opted],
        )

    def _message_events(self) -> pa.Table:
        """Campaign sends over the last 180 days, email (lowercase) and SMS (E.164)."""
        self._subscriptions()
        email_people = np.flatnonzero(self.email_sub_at < _NEVER)
        sms_people = np.flatnonzero(self.sms_sub_at < _NEVER)
        email = self._messages(0, email_people, every_days=3.0, per_days=18.0)
        sms = self._messages(1, sms_people, every_days=10.0, per_days=21.0)
        # Consents need only who opted out, when and how.
        self.email_opt_outs = (email.opt_out_person, email.opt_out_at, email.opt_out_complaint)
        self.sms_opt_outs = (sms.opt_out_person, sms.opt_out_at, sms.opt_out_complaint)
        # Per message (both channels): who, which campaign, and its id in send order.
        emails = email.sent.size
        person = np.concatenate([email.person, sms.person])
        campaign = np.concatenate([email.campaign, sms.campaign + len(email.names)])
        is_email = np.arange(person.size) < emails
        id_rank = np.empty(person.size, dtype=np.int64)
        id_rank[np.argsort(np.concatenate([email.sent, sms.sent]), kind="stable")] = np.arange(
            person.size
        )
        self.email_seen[person[is_email]] = True
        self.phone_seen[person[~is_email]] = True
        # Per row, in time order.
        time = np.concatenate([email.row_time, sms.row_time])
        order = np.argsort(time, kind="stable")
        time = time[order]
        message = np.concatenate([email.row_message, sms.row_message + emails])[order]
        kind = np.concatenate([email.row_type, sms.row_type])[order]
        del order
        names = _squash(email.names + sms.names)
        who = np.concatenate([email.person, sms.person])
        del person, is_email, email, sms
        # Columns one at a time, freeing each index array once used (this step sets the peak).
        row_email = message < emails
        columns: dict[str, pa.Array] = {}
        columns["message_id"] = _scrambled_hex(
            id_rank[message], salt=self.seed * 104729 + 3, prefix="msg_"
        )
        del id_rank
        columns["channel"] = _squash(MESSAGE_CHANNELS).take(pa.array((~row_email).astype(np.int8)))
        who = who[message]
        columns["email"] = _take(self.email_canon, self.email_pos[who], row_email)
        columns["phone"] = _take(self.phone_e164, self.phone_pos[who], ~row_email)
        del who, row_email
        columns["event_type"] = _squash(MESSAGE_EVENT_TYPES).take(pa.array(kind))
        del kind
        columns["campaign"] = names.take(pa.array(campaign[message]))
        del campaign, message
        columns["occurred_at"] = _timestamps(time)
        return pa.table(columns)

    def _consents(self) -> pa.Table:
        """Opt-ins and opt-outs per channel, in time order (phones typed, emails as entered)."""
        rng = self.rng
        email_sources = ("checkout", "popup", "account_signup", "import")
        sms_sources = ("checkout", "popup", "keyword")
        out_sources = ("unsubscribe_link", "preference_center", "spam_complaint", "stop_keyword")
        rows: list[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]] = []

        def add(
            channel: int, people: np.ndarray, at: np.ndarray, status: int, src: np.ndarray
        ) -> None:
            rows.append(
                (
                    people,
                    at,
                    np.full(people.size, channel, np.int8),
                    np.full(people.size, status, np.int8),
                    src,
                )
            )

        email_in = np.flatnonzero(self.email_sub_at < _NEVER)
        add(0, email_in, self.email_sub_at[email_in], 0, self.email_sub_source[email_in])
        early = np.flatnonzero(self.email_early_unsub_at < _NEVER)
        add(0, early, self.email_early_unsub_at[early], 1, 4 + rng.integers(0, 2, early.size))
        people, at, complaint = self.email_opt_outs
        add(0, people, at, 1, 4 + np.where(complaint, 2, 0))
        sms_in = np.flatnonzero(self.sms_sub_at < _NEVER)
        add(1, sms_in, self.sms_sub_at[sms_in], 0, 8 + self.sms_sub_source[sms_in])
        early = np.flatnonzero(self.sms_early_unsub_at < _NEVER)
        add(1, early, self.sms_early_unsub_at[early], 1, np.full(early.size, 7))
        people, at, _ = self.sms_opt_outs
        add(1, people, at, 1, np.full(people.size, 7))
        person, at, channel, status, src = (np.concatenate(col) for col in zip(*rows, strict=True))
        order = np.argsort(at, kind="stable")
        person, at, channel, status, src = (a[order] for a in (person, at, channel, status, src))
        is_email = channel == 0
        source_names = _squash(email_sources + out_sources + sms_sources)
        return pa.table(
            {
                "channel": _squash(MESSAGE_CHANNELS).take(pa.array(channel)),
                "email": self._row_emails(
                    person, is_email, case=self.dirty.email_case_or_padding, invalid=0.0
                ),
                "phone": self._row_phones(
                    person, ~is_email, local_ok=np.isin(self.country[person], (0, 4)), junk=0.0
                ),
                "status": _squash(CONSENT_STATUSES).take(pa.array(status)),
                "occurred_at": _timestamps(at),
                "source": source_names.take(pa.array(src)),
            }
        )

    # -- truth ---------------------------------------------------------------------------------

    def truth(self) -> pa.Table:
        """Every identifier that appears usable in a raw row, normalised, with its person."""
        parts: list[tuple[str, pa.Array, np.ndarray]] = []
        parts.append(("customer_id", self.customer_ids, self.customer_person))
        people = np.flatnonzero(self.email_seen & ~self.is_test)
        parts.append(("email", self.email_canon.take(pa.array(self.email_pos[people])), people))
        people = np.flatnonzero(self.phone_seen)
        parts.append(("phone", self.phone_e164.take(pa.array(self.phone_pos[people])), people))
        devices = np.flatnonzero(self.device_seen)
        owner = np.repeat(np.arange(self.n), self.devices)[devices]
        parts.append(("anonymous_id", _scrambled_hex(devices, salt=self.seed * 7919 + 17), owner))
        return pa.table(
            {
                "identifier_type": pa.concat_arrays(
                    [_squash(np.full(len(values), name)) for name, values, _ in parts]
                ),
                "identifier_value": pa.concat_arrays([values for _, values, _ in parts]),
                "person_index": pa.array(np.concatenate([p for _, _, p in parts]), type=pa.int64()),
            },
            schema=TRUTH_SCHEMA,
        )
