"""Message length: GSM-7 or UCS-2, and how many SMS a body is billed as."""

from __future__ import annotations

import inspect
import subprocess
import sys

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from activations import sms
from activations.sms.length import (
    GSM7_BASIC,
    GSM7_EXTENSION,
    MAX_BODY_CHARACTERS,
    body_length,
    encoding,
    segments,
)

BASIC = sorted(GSM7_BASIC)
EXTENSION = sorted(GSM7_EXTENSION)
EMOJI = ["😀", "🎉", "👍🏽", "❤️", "🇫🇷"]  # some are several code points, each outside or in the BMP
NON_GSM_BMP = ["ç", "’", "“", "ł", "中"]


def reference_segments(body: str) -> int:
    """Split greedily into parts, never breaking an escape pair or a surrogate pair."""
    if not body:
        return 0
    gsm = all(char in GSM7_BASIC or char in GSM7_EXTENSION for char in body)
    if gsm:
        sizes = [2 if char in GSM7_EXTENSION else 1 for char in body]
        single, per_part = 160, 153
    else:
        units = body.encode("utf-16-le")
        sizes = [len(char.encode("utf-16-le")) // 2 for char in body]
        assert sum(sizes) == len(units) // 2
        single, per_part = 70, 67
    if sum(sizes) <= single:
        return 1
    parts: list[list[int]] = [[]]
    for size in sizes:
        if sum(parts[-1]) + size > per_part:
            parts.append([])
        parts[-1].append(size)
    assert all(sum(part) <= per_part for part in parts)
    return len(parts)


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("a" * 160, 1),
        ("a" * 161, 2),
        ("a" * 306, 2),
        ("a" * 307, 3),
        ("é" * 160, 1),  # é is in the GSM-7 alphabet: 160 septets, one SMS
        ("ç" * 70, 1),
        ("ç" * 71, 2),
        ("ç" * 134, 2),
        ("ç" * 135, 3),
        ("", 0),
    ],
)
def test_known_lengths_take_the_known_number_of_segments(body: str, expected: int) -> None:
    assert segments(body) == expected


def test_an_extension_character_counts_two_septets() -> None:
    assert segments("a" * 159 + "€") == 2
    assert segments("a" * 158 + "€") == 1
    assert body_length("{}").units == 4


def test_an_extension_character_is_never_split_across_parts() -> None:
    # 306 septets would fit two parts of 153, but the escape pair cannot straddle the first.
    body = "a" * 152 + "^" + "a" * 152
    assert body_length(body).units == 306
    assert segments(body) == 3


def test_an_emoji_is_never_split_across_parts() -> None:
    # 134 code units would fit two parts of 67, but the surrogate pair cannot straddle the first.
    body = "a" * 66 + "😀" + "a" * 66
    assert body_length(body).units == 134
    assert segments(body) == 3


def test_an_emoji_takes_two_code_units() -> None:
    assert segments("😀" * 35) == 1
    assert segments("😀" * 36) == 2


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("Hi Ana, 20% off: code SAVE20 @ shop.example", "GSM-7"),
        ("Ça vaut 5€ [today] {only} ~ ^ | \\", "GSM-7"),
        ("Ünïcode? no: ç is not GSM-7", "UCS-2"),
        ("It’s here", "UCS-2"),  # a curly apostrophe
        ("Party 🎉", "UCS-2"),
        ("", "GSM-7"),
    ],
)
def test_one_character_outside_gsm7_makes_the_whole_body_ucs2(body: str, expected: str) -> None:
    assert encoding(body) == expected


def test_the_escape_code_itself_is_not_a_character_a_body_may_hold() -> None:
    assert encoding("a\x1bb") == "UCS-2"


def test_the_summary_counts_characters_units_and_segments() -> None:
    summary = body_length("Hi 😀")
    assert (summary.encoding, summary.characters, summary.units, summary.segments) == (
        "UCS-2",
        4,
        5,
        1,
    )


def test_twilio_refuses_bodies_over_1600_characters() -> None:
    assert MAX_BODY_CHARACTERS == 1600
    assert not body_length("a" * 1600).too_long
    assert body_length("a" * 1601).too_long
    assert not body_length("€" * 1600).too_long  # 3200 septets, but 1600 characters
    # 801 emoji are 801 characters, but 1602 UTF-16 code units: refused here, to be safe.
    assert body_length("😀" * 801).too_long


gsm_bodies = st.lists(
    st.one_of(st.sampled_from(BASIC), st.sampled_from(EXTENSION)), max_size=480
).map("".join)
mixed_bodies = st.lists(
    st.one_of(
        st.sampled_from(BASIC),
        st.sampled_from(EXTENSION),
        st.sampled_from(EMOJI),
        st.sampled_from(NON_GSM_BMP),
    ),
    max_size=300,
).map("".join)


@settings(max_examples=200, deadline=None)
@given(body=gsm_bodies)
def test_gsm7_segments_match_a_greedy_split_that_keeps_escape_pairs_whole(body: str) -> None:
    assert encoding(body) == "GSM-7"
    assert segments(body) == reference_segments(body)


@settings(max_examples=200, deadline=None)
@given(body=mixed_bodies)
def test_any_body_segments_match_a_greedy_split_that_keeps_pairs_whole(body: str) -> None:
    assert segments(body) == reference_segments(body)
    assert body_length(body).segments == segments(body)


def test_measuring_a_body_loads_neither_jinja_nor_the_phone_time_zone_data() -> None:
    code = (
        "import sys, activations.sms.length; "
        "print(sorted(m for m in ('jinja2', 'phonenumbers') if m in sys.modules))"
    )
    loaded = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert loaded.strip() == "[]"


@pytest.mark.parametrize("name", sms.__all__)
def test_every_public_name_of_the_sms_core_resolves_and_is_documented(name: str) -> None:
    value = getattr(sms, name)
    if inspect.isclass(value) or inspect.isfunction(value):
        assert inspect.getdoc(value), f"activations.sms.{name} has no docstring"
        assert value.__module__.startswith("activations.sms.")
