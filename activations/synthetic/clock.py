"""Time inside the generator: int64 microseconds since the epoch (naive UTC), and the history spans.

Plain integers rather than datetimes keep gaps, sums and comparisons exact and vectorised.
`NEVER` stands for "does not happen", so `np.minimum` and `<` need no separate masks.
"""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np

SEC = 1_000_000
MIN = 60 * SEC
HOUR = 60 * MIN
DAY = 24 * HOUR
NEVER = np.iinfo(np.int64).max

HISTORY_DAYS = 3 * 365
"""How far the store's history reaches back from `until`."""

MESSAGE_HISTORY_DAYS = 180
"""How far message history reaches back: what an ESP export keeps."""


def to_epoch_us(moment: datetime) -> int:
    """Microseconds since the epoch for a naive-UTC or aware datetime (exact integer arithmetic)."""
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC).replace(tzinfo=None)
    delta = moment - datetime(1970, 1, 1)
    return (delta.days * 86_400 + delta.seconds) * SEC + delta.microseconds
