"""Instants as cohortflow uses them: naive UTC datetimes to the second.

Every entry point (CLI `--as-of`, Dagster run config, the Python API) parses through here, so an
`as_of` means the same instant wherever it was typed.
"""

from __future__ import annotations

from datetime import UTC, datetime

from activations.errors import CohortflowError


def parse_instant(value: str) -> datetime:
    """An ISO-8601 instant as naive UTC: '2026-06-30', '2026-06-30T12:00:00', '...Z', '+02:00'.

    Raises:
        CohortflowError: `value` is not ISO-8601.
    """
    text = value.strip()
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        raise CohortflowError(
            f"'{value}' is not an ISO-8601 instant; use e.g. 2026-06-30T12:00:00 (UTC)."
        ) from None
    if parsed.tzinfo is not None:
        parsed = parsed.astimezone(UTC).replace(tzinfo=None)
    return parsed.replace(microsecond=0)


def utc_now() -> datetime:
    """Now in UTC, naive, to the second: the default `as_of`."""
    return datetime.now(UTC).replace(tzinfo=None, microsecond=0)


def resolve_as_of(value: str | None) -> datetime:
    """`value` parsed when given (not blank), else now: how every entry point picks `as_of`."""
    return parse_instant(value) if value and value.strip() else utc_now()
