"""Cutting a destination's rows into requests its vendor accepts, and waiting for its jobs.

Every bulk API cohortflow talks to caps a request twice, by item count and by body size (Klaviyo:
10,000 profiles and 5 MB per import job; Omnisend: 100 items per batch), and answers bulk work
asynchronously, with a job to poll. The rules for both live here once, so a vendor module only
states its numbers.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import TypeVar

T = TypeVar("T")
J = TypeVar("J")

#: Room left in a byte budget for the request envelope around the items.
ENVELOPE_BYTES = 1_000


def within_limits(
    sized: Iterable[tuple[T, int]], *, max_count: int, max_bytes: int
) -> Iterator[list[T]]:
    """Items (each with its serialised size) in request-sized batches: at most `max_count` each,
    and their sizes plus a separator each within `max_bytes` less the envelope. An item larger
    than the budget on its own still gets a batch of its own, for the caller to refuse."""
    batch: list[T] = []
    batch_bytes = 0
    budget = max_bytes - ENVELOPE_BYTES
    for item, size in sized:
        if batch and (len(batch) >= max_count or batch_bytes + size + 1 > budget):
            yield batch
            batch, batch_bytes = [], 0
        batch.append(item)
        batch_bytes += size + 1
    if batch:
        yield batch


def chunks(items: Sequence[T], size: int) -> Iterator[Sequence[T]]:
    """`items` in consecutive slices of at most `size`."""
    for start in range(0, len(items), size):
        yield items[start : start + size]


@dataclass(frozen=True)
class JobPolling:
    """How a destination waits for a vendor's asynchronous job.

    Attributes:
        first_look: API seconds after submission of the first look (small jobs finish in well
            under a second); each pause then doubles, up to `longest_pause`.
        longest_pause: the longest pause between two looks, in API seconds.
        deadline: API seconds after submission when a job still running is left to the vendor;
            its rows are then retried by the next sync.
        time_scale: API seconds per wall second (the sandboxes run time faster in tests).
        sleep, clock: wall seconds; injectable for tests.
    """

    first_look: float = 0.25
    longest_pause: float = 10.0
    deadline: float = 1_800.0
    time_scale: float = 1.0
    sleep: Callable[[float], None] = time.sleep
    clock: Callable[[], float] = time.monotonic

    def wait(
        self, job: J, *, running: Callable[[J], bool], look: Callable[[], J], submitted_at: float
    ) -> J:
        """Look at `job` again (`look`) until it is no longer `running` or the deadline passed;
        the last answer seen. Waits count from `submitted_at` (on `clock`), not from when the
        caller came to collect it: a job submitted while later ones were being sent has had
        that time to run, so it is looked at at once."""
        delay = self.first_look / self.time_scale
        deadline = submitted_at + self.deadline / self.time_scale
        due = submitted_at + delay
        while running(job):
            now = self.clock()
            if now >= deadline:
                break
            if due > now:
                self.sleep(min(due, deadline) - now)  # a last look at the deadline
            delay = min(delay * 2, self.longest_pause / self.time_scale)
            due = max(due, now) + delay
            job = look()
        return job
