"""Phone normalisation: local formats read in the customer's region, junk rejected with a reason."""

from __future__ import annotations

import pytest

from activations.phones import INVALID_PHONE, normalise_pairs, to_e164


@pytest.mark.parametrize(
    ("raw", "region", "expected"),
    [
        ("(415) 555-0134", "US", "+14155550134"),
        ("+1 415-555-0134", "US", "+14155550134"),
        ("415.555.0134", "US", "+14155550134"),
        ("020 7946 0958", "GB", "+442079460958"),
        ("0049 30 1234567", "US", None),  # 0049 is not an international prefix in the US
        ("0049 30 12345678", "DE", "+493012345678"),
        ("+44 20 7946 0958", "US", "+442079460958"),  # an explicit country code wins
    ],
)
def test_numbers_are_read_in_their_region_and_written_as_e164(
    raw: str, region: str, expected: str | None
) -> None:
    assert to_e164(raw, region) == expected


@pytest.mark.parametrize("raw", ["123", "n/a", "", "+1 555", "call me"])
def test_unusable_numbers_give_none(raw: str) -> None:
    assert to_e164(raw, "US") is None


def test_lookup_rows_carry_a_reason_only_when_the_number_is_unusable() -> None:
    rows = normalise_pairs([("(415) 555-0134", "US"), ("n/a", "US")]).to_pylist()
    assert rows == [
        {
            "phone_raw": "(415) 555-0134",
            "region": "US",
            "phone_e164": "+14155550134",
            "reason": None,
        },
        {"phone_raw": "n/a", "region": "US", "phone_e164": None, "reason": INVALID_PHONE},
    ]
