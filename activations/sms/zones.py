"""Which IANA time zones a text's recipient may be in, and where that answer came from.

Quiet hours are the recipient's local hours, but a warehouse rarely knows where a person is. In
order of trust: the customer's `timezone` when it names a real IANA zone; else the zones
`phonenumbers` gives for the number's prefix (a US area code, a country: one or several zones);
else, for a number whose prefix it cannot place, every zone of its country calling code.

Several zones are not a guess to narrow down: `activations.sms.rules` treats the recipient as
being in every candidate zone at once, so a text may go only when it is allowed in all of them
(the strictest reading). `RecipientZones` keeps the source so the CLI can say why a text to
+1 208 330 … waited for 08:00 in Los Angeles rather than Boise.

Zones are read with the standard library's `zoneinfo`: the system's tz database, else the
`tzdata` package (which a machine without /usr/share/zoneinfo, e.g. Windows or a slim container,
needs).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Literal
from zoneinfo import ZoneInfo

import phonenumbers
from phonenumbers import timezone as phone_timezones
from phonenumbers.tzdata import TIMEZONE_DATA

ZoneSource = Literal["customer_timezone", "phone_number", "country", "none"]

# Valid IANA names that place nobody: a profile whose timezone says "UTC" holds a default, not a
# location, and trusting it would text a New Yorker at 03:00. They are passed over like junk.
PLACELESS_ZONES = frozenset(
    {
        "Etc/GMT",
        "Etc/GMT+0",
        "Etc/GMT-0",
        "Etc/GMT0",
        "Etc/Greenwich",
        "Etc/UCT",
        "Etc/UTC",
        "Etc/Universal",
        "Etc/Zulu",
        "Factory",
        "GMT",
        "GMT+0",
        "GMT-0",
        "GMT0",
        "Greenwich",
        "UCT",
        "UTC",
        "Universal",
        "Zulu",
        "localtime",
        "posixrules",
    }
)
_PLACELESS_LOWER = frozenset(name.lower() for name in PLACELESS_ZONES)
# How many zone names `RecipientZones.explain` lists before summarising the rest.
_EXPLAINED_ZONES = 4


@dataclass(frozen=True)
class RecipientZones:
    """The candidate zones of one recipient (sorted IANA names), where they came from, and the
    candidates passed over on the way (e.g. a customer timezone that is not an IANA name).

    `zones` is empty only with source "none": nothing places the recipient, so no text may be
    timed for them."""

    zones: tuple[str, ...]
    source: ZoneSource
    passed_over: tuple[str, ...] = ()

    @property
    def known(self) -> bool:
        return bool(self.zones)

    def zoneinfos(self) -> tuple[ZoneInfo, ...]:
        """The zones as `ZoneInfo` objects, what `activations.sms.rules` takes."""
        return tuple(ZoneInfo(name) for name in self.zones)

    def explain(self) -> str:
        """One line for the CLI: which zones, from what, and what was passed over."""
        origin = {
            "customer_timezone": "the customer's timezone",
            "phone_number": "the phone number",
            "country": "the phone's country calling code",
            "none": "nothing",
        }[self.source]
        if self.zones:
            names = ", ".join(self.zones[:_EXPLAINED_ZONES])
            more = len(self.zones) - _EXPLAINED_ZONES
            listed = f"{names} and {more} more" if more > 0 else names
            text = f"{listed} (from {origin})"
        else:
            text = "no time zone (nothing places the recipient)"
        if self.passed_over:
            text += "; " + "; ".join(self.passed_over)
        return text


def resolve_zones(phone_e164: str | None, customer_timezone: str | None = None) -> RecipientZones:
    """The candidate zones for a recipient with `phone_e164` and, maybe, a profile timezone.

    The customer's timezone wins when it is an IANA zone that places someone (matched without
    regard to case and surrounding blanks); otherwise the phone number's zones; otherwise the
    zones of its country calling code."""
    passed_over: list[str] = []
    customer_zone = _customer_zone(customer_timezone, passed_over)
    if customer_zone is not None:
        return RecipientZones((customer_zone,), "customer_timezone", tuple(passed_over))
    number = _parse(phone_e164, passed_over)
    if number is None:
        return RecipientZones((), "none", tuple(passed_over))
    from_number = _known(phone_timezones.time_zones_for_number(number))
    if from_number:
        return RecipientZones(from_number, "phone_number", tuple(passed_over))
    passed_over.append(f"phone {phone_e164} has no zone of its own")
    calling_code = number.country_code or 0
    from_country = country_zones(calling_code)
    if from_country:
        return RecipientZones(from_country, "country", tuple(passed_over))
    passed_over.append(f"country calling code +{calling_code} has no zone")
    return RecipientZones((), "none", tuple(passed_over))


def country_zones(country_code: int) -> tuple[str, ...]:
    """Every zone `phonenumbers` lists for a country calling code (sorted; empty if none).

    A calling code shared by several countries (+1 is the whole North American Numbering Plan,
    Guam to Newfoundland) gives all their zones: a number whose prefix cannot be placed cannot be
    placed in one of those countries either."""
    return _known(TIMEZONE_DATA.get(str(country_code), ()))


@cache
def _zone_names() -> dict[str, str]:
    """Every usable zone name, by its lower-case form (the system database rarely changes while
    a process runs; a stale cache only costs a fallback to the phone)."""
    from zoneinfo import available_timezones

    return {name.lower(): name for name in available_timezones() if name not in PLACELESS_ZONES}


def is_usable_zone(name: str) -> bool:
    """Whether `name` is exactly an IANA zone this machine knows that places someone."""
    return _zone_names().get(name.lower()) == name


def _customer_zone(value: str | None, passed_over: list[str]) -> str | None:
    if value is None or not value.strip():
        return None
    name = _zone_names().get(value.strip().lower())
    if name is not None:
        return name
    if value.strip().lower() in _PLACELESS_LOWER:
        passed_over.append(f"customer timezone {value!r} names no place (a default, not a zone)")
    else:
        passed_over.append(f"customer timezone {value!r} is not an IANA zone")
    return None


def _parse(phone_e164: str | None, passed_over: list[str]) -> phonenumbers.PhoneNumber | None:
    if not phone_e164:
        passed_over.append("no phone number")
        return None
    try:
        return phonenumbers.parse(phone_e164, None)
    except phonenumbers.NumberParseException:
        passed_over.append(f"phone {phone_e164!r} is not an E.164 number")
        return None


def _known(names: tuple[str, ...] | list[str]) -> tuple[str, ...]:
    """`names` without "Etc/Unknown" and names this machine's tz database lacks, sorted."""
    return tuple(sorted({name for name in names if is_usable_zone(name)}))
