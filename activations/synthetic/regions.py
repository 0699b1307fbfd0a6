"""Where persons live: six countries and the regions inside them.

A person's region fixes their country, IANA time zone and landline area code together, so a
customer's timezone column, phone number and email domain never contradict each other. Countries
are referred to by their index into `COUNTRIES` throughout the generator.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

COUNTRIES = ("US", "GB", "DE", "FR", "CA", "AU")
COUNTRY_SHARE = (0.60, 0.12, 0.07, 0.05, 0.09, 0.07)
NANP_COUNTRIES = (0, 4)  # US and CA: one numbering plan, so local formats parse in region 'US'

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
class Region:
    """Where a person lives: country, IANA zone and the landline area code (NANP area code)."""

    country: int
    timezone: str
    area: str
    first_digits: str  # allowed first digit of the subscriber number after the area code
    weight: float


def _regions() -> tuple[Region, ...]:
    """The region table: a person's region fixes country, time zone and phone area together."""
    regions: list[Region] = []
    for country, areas in ((0, _US_AREAS), (4, _CA_AREAS)):
        for zone, codes in areas.items():
            for code in codes.split():
                regions.append(Region(country, zone, code, "", 1.0))
    regions += [
        Region(1, "Europe/London", "20", "378", 1.0),
        Region(2, "Europe/Berlin", "30", "23456789", 0.5),
        Region(2, "Europe/Berlin", "89", "23456789", 0.3),
        Region(2, "Europe/Berlin", "40", "23456789", 0.2),
        Region(3, "Europe/Paris", "1", "0123456789", 0.6),
        Region(3, "Europe/Paris", "4", "123456789", 0.4),
        Region(5, "Australia/Sydney", "2", "89", 0.4),
        Region(5, "Australia/Melbourne", "3", "9", 0.3),
        Region(5, "Australia/Brisbane", "7", "3", 0.2),
        Region(5, "Australia/Perth", "8", "9", 0.1),
    ]
    return tuple(regions)


REGIONS = _regions()
REGION_COUNTRY = np.array([r.country for r in REGIONS], dtype=np.int64)
TIMEZONES = tuple(sorted({r.timezone for r in REGIONS}))
REGION_TZ = np.array([TIMEZONES.index(r.timezone) for r in REGIONS], dtype=np.int64)


def region_probabilities() -> np.ndarray:
    """Region weights normalised within each country, then scaled by the country share."""
    weights = np.array([r.weight for r in REGIONS])
    probs = np.zeros(len(REGIONS))
    for country, share in enumerate(COUNTRY_SHARE):
        mask = REGION_COUNTRY == country
        probs[mask] = share * weights[mask] / weights[mask].sum()
    normalised: np.ndarray = probs / probs.sum()
    return normalised
