"""Instants as cohortflow uses them: naive UTC datetimes to the second.

Every entry point (CLI `--as-of`, Dagster run config, the Python API) parses through here, so an
`as_of` means the same instant wherever it was typed.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from activations.errors import CohortflowError

FUTURE_TOLERANCE = timedelta(minutes=5)
"""How far ahead of this machine's clock an as_of may be: clock skew between hosts, not intent."""


class FutureAsOfRefused(CohortflowError):
    """An as_of later than now: recorded, it would refuse every later run as a backfill."""


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


def resolve_as_of(value: str | None, *, allow_future: bool = False) -> datetime:
    """`value` parsed when given (not blank), else now: how every entry point picks `as_of`.

    Raises:
        CohortflowError: `value` is not ISO-8601.
        FutureAsOfRefused: `value` is later than now and `allow_future` is False.
    """
    if not (value and value.strip()):
        return utc_now()
    return refuse_future(parse_instant(value), allow_future=allow_future)


def refuse_future(
    as_of: datetime, *, allow_future: bool = False, now: datetime | None = None
) -> datetime:
    """`as_of`, unless it is later than now (plus FUTURE_TOLERANCE) and `allow_future` is False.

    Change detection only moves forward, so one run recorded as of a typo in the future would
    refuse every real run after it. Backtests and demos on synthetic data opt in explicitly.

    Raises:
        FutureAsOfRefused: `as_of` is in the future.
    """
    now = utc_now() if now is None else now
    if allow_future or as_of <= now + FUTURE_TOLERANCE:
        return as_of
    raise FutureAsOfRefused(
        f"as_of {as_of:%Y-%m-%d %H:%M:%S} is in the future (now {now:%Y-%m-%d %H:%M:%S} UTC): "
        "a run recorded as of it would refuse every later run. Give a past instant, or "
        "--allow-future (`allow_future: true` in a Dagster op's config) for a backtest on "
        "synthetic data."
    )
