"""Every destination, by the name segments use under `destinations:`: the one list to extend.

A destination is its `Registration` (options schema, required environment, payload limits, how
to open it); the segment schema, the payload checks, `cohortflow plan`/`run`/`sync` and the
Dagster activation assets all read it from here.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager

from activations.destinations import klaviyo, omnisend, planned
from activations.destinations.base import Destination, Registration
from activations.errors import CohortflowError
from activations.http import HttpClient
from activations.sms import sync as sms

REGISTRATIONS: Mapping[str, Registration] = {
    registration.name: registration
    for registration in (
        klaviyo.REGISTRATION,
        omnisend.REGISTRATION,
        sms.REGISTRATION,
        planned.WEBHOOK,
    )
}
IMPLEMENTED: tuple[str, ...] = tuple(name for name, r in REGISTRATIONS.items() if r.implemented)


def registration(name: str) -> Registration:
    """The registration of destination `name`.

    Raises:
        CohortflowError: no destination has that name.
    """
    try:
        return REGISTRATIONS[name]
    except KeyError:
        raise CohortflowError(
            f"unknown destination {name!r}: destinations are {', '.join(REGISTRATIONS)}."
        ) from None


def unavailable_reason(name: str, environ: Mapping[str, str]) -> str | None:
    """Why `cohortflow run` cannot sync `name` now (None when it can)."""
    if name not in IMPLEMENTED:
        return "not implemented yet"
    missing = [v for v in REGISTRATIONS[name].required_env if not environ.get(v, "").strip()]
    return f"{', '.join(missing)} not set" if missing else None


def skip_note(name: str, reason: str) -> str:
    """The one line saying `name` was not synced: where to read more when the destination
    exists, and that nothing is sent yet when it does not."""
    if name not in IMPLEMENTED:
        return (
            f"{name}: not synced (not implemented yet; segments routed to it are built and "
            f"tracked, nothing is sent; implemented: {', '.join(IMPLEMENTED)})"
        )
    return f"{name}: not synced ({reason}); see docs/destinations/{name}.md"


@contextmanager
def open_destination(
    name: str, environ: Mapping[str, str]
) -> Iterator[tuple[Destination, HttpClient]]:
    """The destination `name` and the one HTTP client it uses, closed afterwards.

    Raises:
        CohortflowError: the destination is unknown or not implemented yet, or its settings
            are missing or invalid.
    """
    opener = registration(name).open
    if opener is None:
        raise CohortflowError(
            f"destination {name!r} cannot be synced yet: implemented destinations are "
            f"{', '.join(IMPLEMENTED)}."
        )
    with opener(environ) as opened:
        yield opened
