"""Who exists in the store: registered customers, guest-only buyers and anonymous visitors.

Every raw row derives from a person, so identity resolution has a ground truth to be measured on.
Each person arrives once (the shop grows, so later arrivals are more common), lives in one region,
has a name from their country's locale and browses on one or more devices.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from activations.synthetic.clock import DAY, HOUR, MIN, NEVER
from activations.synthetic.names import Names, draw_names
from activations.synthetic.regions import REGION_COUNTRY, REGIONS, region_probabilities
from activations.synthetic.run import Run

REGISTERED, GUEST, ANONYMOUS = 0, 1, 2
PERSON_MIX = (0.55, 0.10, 0.35)  # shares of REGISTERED, GUEST, ANONYMOUS


@dataclass(frozen=True)
class Population:
    """Person-level arrays indexed by person; each person's devices start at `device_offset`."""

    kind: np.ndarray  # REGISTERED, GUEST or ANONYMOUS
    arrival: np.ndarray  # first visit
    region: np.ndarray  # index into REGIONS
    country: np.ndarray  # index into COUNTRIES
    names: Names
    created_at: np.ndarray  # account creation; NEVER for persons without an account
    devices: np.ndarray  # how many devices each person browses on
    device_offset: np.ndarray  # global number of each person's first device
    device_count: int


def draw_population(run: Run) -> Population:
    """Kind, arrival time, region (country + zone + area), names and devices of every person."""
    n, rng = run.persons, run.rng
    kind = rng.choice(3, size=n, p=PERSON_MIX).astype(np.int8)
    span = run.until - run.start
    # The shop grows: arrival density rises over the history (∝ t^0.6).
    arrival = run.start + (rng.random(n) ** (1 / 1.6) * (span - HOUR)).astype(np.int64)
    region = rng.choice(len(REGIONS), size=n, p=region_probabilities())
    country = REGION_COUNTRY[region]
    names = draw_names(rng, country)
    registered = kind == REGISTERED
    signup_lag = np.where(
        rng.random(n) < 0.4, rng.uniform(2 * MIN, 30 * MIN, n), rng.exponential(20 * DAY, n)
    ).astype(np.int64)
    created_at = np.where(registered, np.minimum(arrival + signup_lag, run.until - MIN), NEVER)
    devices = np.where(
        registered,
        1 + rng.binomial(3, 0.3, n),
        np.where(kind == GUEST, 1 + rng.binomial(1, 0.3, n), 1 + rng.binomial(1, 0.15, n)),
    ).astype(np.int64)
    return Population(
        kind=kind,
        arrival=arrival,
        region=region,
        country=country,
        names=names,
        created_at=created_at,
        devices=devices,
        device_offset=np.cumsum(devices) - devices,
        device_count=int(devices.sum()),
    )
