"""Recipient zones: the customer's timezone, else the phone's zones, else its country's."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import phonenumbers
import pytest

from activations.sms.rules import QuietHours, ReasonCode, Send, Skip, decide, next_allowed
from activations.sms.zones import country_zones, resolve_zones

SUBSCRIBED = [(datetime(2025, 1, 1), "subscribed")]
IDAHO_PANHANDLE = "+12083301234"  # area code 208, an exchange phonenumbers puts in two zones


def test_zoneinfo_reads_the_tz_database_on_this_machine() -> None:
    assert ZoneInfo("America/New_York").utcoffset(datetime(2026, 1, 15)) is not None


def test_a_valid_customer_timezone_wins_over_the_phone() -> None:
    zones = resolve_zones("+14155550134", "Europe/Paris")
    assert (zones.zones, zones.source) == (("Europe/Paris",), "customer_timezone")


def test_a_customer_timezone_is_matched_without_regard_to_case_or_blanks() -> None:
    assert resolve_zones("+14155550134", " america/new_york ").zones == ("America/New_York",)


def test_an_invalid_customer_timezone_falls_back_to_the_phone_and_says_so() -> None:
    zones = resolve_zones("+14155550134", "Mars/Olympus_Mons")
    assert (zones.zones, zones.source) == (("America/Los_Angeles",), "phone_number")
    assert "Mars/Olympus_Mons" in zones.explain()


@pytest.mark.parametrize("placeless", ["UTC", "Etc/UTC", "GMT", "utc", "Factory"])
def test_a_customer_timezone_that_names_no_place_is_passed_over(placeless: str) -> None:
    zones = resolve_zones("+14155550134", placeless)
    assert zones.zones == ("America/Los_Angeles",)
    assert "names no place" in zones.explain()


def test_a_us_number_whose_prefix_spans_two_zones_gets_both() -> None:
    zones = resolve_zones(IDAHO_PANHANDLE)
    assert (zones.zones, zones.source) == (("America/Boise", "America/Los_Angeles"), "phone_number")


def test_a_number_in_two_zones_is_texted_only_when_both_allow_it() -> None:
    zones = resolve_zones(IDAHO_PANHANDLE).zoneinfos()
    # 14:00 UTC on 15 January: 07:00 in Boise (MST), 06:00 in Los Angeles (PST).
    assert next_allowed(datetime(2026, 1, 15, 14), zones, QuietHours()) == datetime(
        2026, 1, 15, 16
    )  # 08:00 in Los Angeles, 09:00 in Boise
    # 04:30 UTC: 20:30 in Los Angeles but 21:30 in Boise: wait for the next morning in both.
    assert next_allowed(datetime(2026, 1, 16, 4, 30), zones, QuietHours()) == datetime(
        2026, 1, 16, 16
    )


def test_a_number_phonenumbers_cannot_place_falls_back_to_its_country() -> None:
    german = resolve_zones("+491234")  # not a valid German number: no prefix to place it
    assert (german.zones, german.source) == (("Europe/Berlin",), "country")
    assert "has no zone of its own" in german.explain()


def test_the_country_of_a_shared_calling_code_is_every_country_sharing_it() -> None:
    unplaced = resolve_zones("+15555550100")  # area code 555 does not exist
    assert unplaced.source == "country"
    assert unplaced.zones == country_zones(1)
    assert {"America/New_York", "America/Los_Angeles", "Pacific/Honolulu", "Pacific/Guam"} <= set(
        unplaced.zones
    )


def test_a_non_geographic_number_gets_its_countrys_zones_from_phonenumbers() -> None:
    toll_free = resolve_zones("+18005550134")
    assert toll_free.source == "phone_number"
    assert len(toll_free.zones) > 30


def test_a_recipient_no_zone_places_is_never_texted() -> None:
    satellite = resolve_zones("+881612345678")  # a valid number of no country
    assert (satellite.zones, satellite.source) == ((), "none")
    decision = decide(
        now=datetime(2026, 1, 15, 12),
        planned_at=datetime(2026, 1, 15, 12),
        zones=satellite.zoneinfos(),
        consents=SUBSCRIBED,
    )
    assert isinstance(decision, Skip)
    assert decision.reason.code is ReasonCode.NO_TIME_ZONE


@pytest.mark.parametrize("phone", [None, "", "415 555 0134", "n/a"])
def test_a_missing_or_non_e164_phone_places_nobody(phone: str | None) -> None:
    assert resolve_zones(phone).source == "none"


def test_a_customer_timezone_places_even_a_recipient_without_a_usable_phone() -> None:
    assert resolve_zones(None, "Asia/Tokyo").zones == ("Asia/Tokyo",)


def test_the_explanation_names_the_zones_and_their_source() -> None:
    text = resolve_zones(IDAHO_PANHANDLE).explain()
    assert text == "America/Boise, America/Los_Angeles (from the phone number)"


def test_every_zone_resolved_for_any_regions_example_number_loads() -> None:
    for region in sorted(phonenumbers.SUPPORTED_REGIONS):
        for kind in (phonenumbers.PhoneNumberType.MOBILE, phonenumbers.PhoneNumberType.FIXED_LINE):
            number = phonenumbers.example_number_for_type(region, kind)
            if number is None:
                continue
            e164 = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
            zones = resolve_zones(e164)
            assert zones.zones, f"{region} {e164}: {zones.explain()}"
            assert zones.zoneinfos()


def test_a_us_toll_free_number_is_texted_only_when_every_nanp_zone_allows_it() -> None:
    zones = resolve_zones("+18005550134").zoneinfos()
    decision = decide(
        now=datetime(2026, 1, 10, 12),
        planned_at=datetime(2026, 1, 10, 12),
        zones=zones,
        consents=SUBSCRIBED,
    )
    # 22:00 UTC is 08:00 in Guam (+10) and 18:30 in St John's (-3:30): the first common minute.
    assert isinstance(decision, Send)
    assert decision.at == datetime(2026, 1, 10, 22)
