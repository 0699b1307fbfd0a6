"""How many API seconds pass per wall second, so tests can run real vendor limits faster.

The sandbox servers and every client read the same factor. A client divides its rate-limit windows,
its backoff and every Retry-After by it, so a test at scale 60 still exercises the documented
"150 per minute" ceiling, one minute of API time lasting one wall second.
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping

from activations.errors import CohortflowError

TIME_SCALE_ENV = "COHORTFLOW_TIME_SCALE"


class TimeScaleError(CohortflowError):
    """COHORTFLOW_TIME_SCALE is not a number of at least 1."""


def time_scale(environ: Mapping[str, str] | None = None) -> float:
    """Read the time scale from the environment.

    Args:
        environ: the environment to read; defaults to `os.environ`.

    Returns:
        The factor (>= 1); 1.0 when the variable is unset or empty.

    Raises:
        TimeScaleError: the value is not a finite number >= 1.
    """
    environ = os.environ if environ is None else environ
    raw = environ.get(TIME_SCALE_ENV, "").strip()
    if not raw:
        return 1.0
    try:
        value = float(raw)
    except ValueError:
        value = math.nan
    if not math.isfinite(value) or value < 1.0:
        raise TimeScaleError(
            f"{TIME_SCALE_ENV} must be a number >= 1 (API seconds per wall second), "
            f"got {raw[:40]!r}; unset it to run in real time."
        )
    return value


def check_scale(value: float) -> float:
    """Validate a time scale given in code (any positive finite factor)."""
    if not math.isfinite(value) or value <= 0:
        raise ValueError(f"time_scale must be a positive finite number, got {value!r}")
    return float(value)
