"""Klaviyo-shaped ids (ULIDs, six-character list/metric ids, UUIDs), deterministic from the seed."""

from __future__ import annotations

import random
import string
import threading
import uuid
from datetime import UTC, datetime

_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_ALNUM = string.ascii_letters + string.digits
# Ids are ULID-like: 10 time characters from this instant onwards (so they start "01") + 16 random.
_ID_EPOCH_MS = int(datetime(2026, 7, 15, tzinfo=UTC).timestamp() * 1000)


class IdFactory:
    """Deterministic ids from a seeded generator (thread-safe).

    Args:
        seed: the sandbox seed.
        stream: a name, so independent id kinds do not shift each other.
    """

    def __init__(self, seed: int, stream: str) -> None:
        self._rng = random.Random(f"klaviyo:{stream}:{seed}")
        self._sequence = 0
        self._lock = threading.Lock()

    def ulid(self) -> str:
        """26 uppercase Crockford base-32 characters starting "01", increasing with each call."""
        with self._lock:
            self._sequence += 1
            return _base32(_ID_EPOCH_MS + self._sequence, 10) + _base32(
                self._rng.getrandbits(80), 16
            )

    def short(self) -> str:
        """Six letters and digits, like Klaviyo's list and metric ids ("Y6nRLr")."""
        with self._lock:
            return "".join(self._rng.choice(_ALNUM) for _ in range(6))

    def uuid(self) -> str:
        """A UUID4 string, like the ids of Klaviyo's error objects."""
        with self._lock:
            return str(uuid.UUID(int=self._rng.getrandbits(128), version=4))


def _base32(value: int, width: int) -> str:
    chars = []
    for _ in range(width):
        value, digit = divmod(value, 32)
        chars.append(_CROCKFORD[digit])
    return "".join(reversed(chars))
