"""Options and argument parsing shared by several commands."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

import typer

from activations.errors import CohortflowError

JsonOption = Annotated[
    bool, typer.Option("--json", help="Print machine-readable JSON on stdout instead of tables.")
]


def parse_instant(value: str) -> datetime:
    """An ISO-8601 instant as naive UTC: '2026-06-30', '2026-06-30T12:00:00', '...Z', '+02:00'."""
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
