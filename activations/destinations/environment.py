"""Reading a destination's settings from the environment, the same way for every vendor."""

from __future__ import annotations

from collections.abc import Mapping

from activations.errors import CohortflowError


class SettingError(CohortflowError):
    """An environment variable holds a value cohortflow cannot use."""


def positive_seconds(environ: Mapping[str, str], name: str, default: float) -> float:
    """`name` as a positive number of seconds, `default` when unset.

    Raises:
        SettingError: the value is not a positive number.
    """
    raw = environ.get(name, "").strip()
    try:
        value = float(raw) if raw else default
    except ValueError:
        value = -1.0
    if value <= 0:
        raise SettingError(f"{name} must be a positive number of seconds, got {raw!r}.")
    return value
