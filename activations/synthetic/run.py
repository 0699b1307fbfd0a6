"""One generation run: the random stream every step draws from, the history window, the dirt."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import numpy as np

from activations.synthetic.clock import DAY, HISTORY_DAYS, to_epoch_us
from activations.synthetic.rates import DirtyRates


@dataclass(frozen=True)
class Run:
    """What every step reads.

    There is one `rng` for the whole store and the steps draw from it in a fixed order, which is
    what makes the same `(persons, seed, until)` give byte-identical tables.
    """

    persons: int
    seed: int
    rng: np.random.Generator
    start: int  # microseconds since the epoch: `until` minus HISTORY_DAYS
    until: int
    dirty: DirtyRates

    @classmethod
    def create(cls, persons: int, seed: int, until: datetime, dirty: DirtyRates) -> Run:
        """A run seeded with PCG64(seed) over the HISTORY_DAYS before `until`."""
        end = to_epoch_us(until)
        return cls(
            persons=persons,
            seed=seed,
            rng=np.random.Generator(np.random.PCG64(seed)),
            start=end - HISTORY_DAYS * DAY,
            until=end,
            dirty=dirty,
        )
