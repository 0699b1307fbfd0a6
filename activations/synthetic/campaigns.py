"""The campaign calendar: when email and SMS campaigns go out over the message window, and names.

Campaign names carry the send date and a theme ('2025-11-24-black-friday'), as ESP exports do,
so the seasonal themes land on the right dates.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

import numpy as np

from activations.synthetic.clock import DAY, HOUR, MESSAGE_HISTORY_DAYS, SEC

EMAIL_THEMES = (
    "weekly-newsletter",
    "new-arrivals",
    "flash-sale",
    "back-in-stock",
    "bestsellers",
    "restock-reminder",
    "vip-early-access",
    "seasonal-edit",
    "free-shipping-weekend",
    "customer-favourites",
)
SMS_THEMES = ("flash-sale", "last-chance", "new-drop", "vip-offer")


def send_calendar(
    rng: np.random.Generator, until: int, every_days: float, themes: Sequence[str], prefix: str
) -> tuple[np.ndarray, list[str]]:
    """A send calendar over the message window: send times and campaign names."""
    window = until - MESSAGE_HISTORY_DAYS * DAY
    count = int(MESSAGE_HISTORY_DAYS / every_days)
    times = window + (np.arange(count) * every_days * DAY).astype(np.int64)
    times += rng.integers(14 * HOUR, 19 * HOUR, count)  # sent in the afternoon UTC
    names: list[str] = []
    for moment in times:  # campaign calendar: a fixed number per window, not per person
        day = datetime.fromtimestamp(int(moment) // SEC, UTC)
        theme = themes[int(rng.integers(len(themes)))]
        if day.month == 11 and day.day >= 20:
            theme = "black-friday"
        elif day.month == 12 and day.day <= 20:
            theme = "holiday-gift-guide"
        names.append(f"{prefix}{day:%Y-%m-%d}-{theme}")
    return times, names
