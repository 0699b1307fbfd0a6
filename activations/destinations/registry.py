"""Every destination, by the name segments use under `destinations:`: the one list to extend.

A destination is its `Registration` (options schema, required environment, payload limits, how
to open it); the segment schema, the payload checks, `cohortflow plan`/`run`/`sync` and the
Dagster activation assets all read it from here.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from activations.destinations import klaviyo, omnisend, webhook
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
        webhook.REGISTRATION,
    )
}
NAMES: tuple[str, ...] = tuple(REGISTRATIONS)


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


def unavailable_reason(
    name: str, environ: Mapping[str, str], blocks: Iterable[Mapping[str, Any]] = ()
) -> str | None:
    """Why `cohortflow run` cannot sync `name` now (None when it can): a variable it needs is
    unset, its own or one named by the block of a segment routed there (`blocks`)."""
    found = registration(name)
    needed = list(found.required_env)
    if found.segment_env is not None:
        needed += [variable for block in blocks for variable in found.segment_env(block)]
    missing = [v for v in dict.fromkeys(needed) if not environ.get(v, "").strip()]
    return f"{', '.join(missing)} not set" if missing else None


def skip_note(name: str, reason: str) -> str:
    """The one line saying `name` was not synced, and where to read how to set it up."""
    return f"{name}: not synced ({reason}); see docs/destinations/{name}.md"


@contextmanager
def open_destination(
    name: str, environ: Mapping[str, str]
) -> Iterator[tuple[Destination, HttpClient]]:
    """The destination `name` and the one HTTP client it uses, closed afterwards.

    Raises:
        CohortflowError: the destination is unknown, runs its own sync (SMS), or its settings
            are missing or invalid.
    """
    opener = registration(name).open
    if opener is None:
        raise CohortflowError(f"destination {name!r} runs its own sync, not a generic one.")
    with opener(environ) as opened:
        yield opened
