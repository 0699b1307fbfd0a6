"""--as-of, --until and Dagster's as_of accept ISO-8601 instants and always mean UTC."""

from __future__ import annotations

from datetime import datetime

import pytest

from activations.errors import CohortflowError
from activations.instants import parse_instant, resolve_as_of, utc_now


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-06-30T12:00:00", datetime(2026, 6, 30, 12)),
        ("2026-06-30 12:00:00", datetime(2026, 6, 30, 12)),
        ("2026-06-30T12:00:00Z", datetime(2026, 6, 30, 12)),
        ("2026-06-30T14:00:00+02:00", datetime(2026, 6, 30, 12)),
        ("2026-06-30", datetime(2026, 6, 30)),
        ("2026-06-30T12:00:00.987", datetime(2026, 6, 30, 12)),
    ],
)
def test_instants_are_converted_to_naive_utc_seconds(text: str, expected: datetime) -> None:
    assert parse_instant(text) == expected


def test_a_malformed_instant_names_the_expected_format() -> None:
    with pytest.raises(CohortflowError, match="2026-06-30T12:00:00"):
        parse_instant("30/06/2026")


def test_a_missing_or_blank_as_of_means_now() -> None:
    before = utc_now()
    for value in (None, "", "  "):
        resolved = resolve_as_of(value)
        assert before <= resolved <= utc_now()
        assert resolved.tzinfo is None and resolved.microsecond == 0
