"""Destinations by the name segments use under `destinations:`, built from the environment."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager

from activations.destinations.base import Destination
from activations.errors import CohortflowError
from activations.http import HttpClient, time_scale

IMPLEMENTED = ("klaviyo",)
# What must be in the environment before a destination can be synced at all.
REQUIRED_ENV = {"klaviyo": ("KLAVIYO_API_KEY",)}


def unavailable_reason(name: str, environ: Mapping[str, str]) -> str | None:
    """Why `cohortflow run` cannot sync `name` now (None when it can)."""
    if name not in IMPLEMENTED:
        return "not implemented yet"
    missing = [v for v in REQUIRED_ENV[name] if not environ.get(v, "").strip()]
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
        CohortflowError: the destination is unknown or not implemented yet, or its credentials
            are missing.
    """
    if name == "klaviyo":
        from activations.destinations.klaviyo import KlaviyoDestination, KlaviyoSettings

        settings = KlaviyoSettings.from_env(environ)
        with settings.client() as client:
            yield (
                KlaviyoDestination(
                    client, poll_interval=settings.poll_interval, time_scale=time_scale()
                ),
                client,
            )
        return
    raise CohortflowError(
        f"destination {name!r} cannot be synced yet: implemented destinations are "
        f"{', '.join(IMPLEMENTED)}."
    )
