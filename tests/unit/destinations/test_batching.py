"""Request batching every destination shares: nothing lost, reordered or over a vendor's limits."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from activations.destinations.batching import ENVELOPE_BYTES, JobPolling, chunks, within_limits


@settings(max_examples=200, deadline=None)
@given(
    sizes=st.lists(st.integers(min_value=0, max_value=5_000), max_size=300),
    max_count=st.integers(min_value=1, max_value=50),
    max_bytes=st.integers(min_value=ENVELOPE_BYTES + 1, max_value=60_000),
)
def test_batches_keep_every_item_in_order_within_count_and_bytes(
    sizes: list[int], max_count: int, max_bytes: int
) -> None:
    batches = list(within_limits(enumerate(sizes), max_count=max_count, max_bytes=max_bytes))
    assert [item for batch in batches for item in batch] == list(range(len(sizes)))
    budget = max_bytes - ENVELOPE_BYTES
    for batch in batches:
        assert 1 <= len(batch) <= max_count
        # Over budget only as an item alone, which the vendor module then refuses.
        assert len(batch) == 1 or sum(sizes[i] + 1 for i in batch) <= budget
    # Greedy: no batch could have taken the next batch's first item.
    for batch, following in zip(batches, batches[1:], strict=False):
        full = len(batch) == max_count
        over = sum(sizes[i] + 1 for i in batch) + sizes[following[0]] + 1 > budget
        assert full or over


def test_chunks_are_consecutive_slices() -> None:
    assert [list(c) for c in chunks(list(range(7)), 3)] == [[0, 1, 2], [3, 4, 5], [6]]
    assert list(chunks([], 3)) == []


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0
        self.slept: list[float] = []

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def test_a_finished_job_is_not_looked_at_again() -> None:
    clock = FakeClock()
    polling = JobPolling(sleep=clock.sleep, clock=lambda: clock.now)
    looks: list[str] = []

    def look() -> str:
        looks.append("look")
        return "done"

    assert polling.wait("done", running=lambda j: j != "done", look=look, submitted_at=0) == "done"
    assert looks == [] and clock.slept == []


def test_time_scale_shortens_every_pause_and_the_deadline() -> None:
    """A sandbox running 100x faster waits a hundredth of each pause, and gives up at a hundredth
    of the deadline, so a fast test still sees the real schedule."""
    clock = FakeClock()
    polling = JobPolling(
        first_look=1.0,
        longest_pause=4.0,
        deadline=20.0,
        time_scale=100.0,
        sleep=clock.sleep,
        clock=lambda: clock.now,
    )
    seen = polling.wait(
        "running", running=lambda j: j == "running", look=lambda: "running", submitted_at=0.0
    )
    assert seen == "running"
    assert [round(s * 100, 6) for s in clock.slept] == [1.0, 2.0, 4.0, 4.0, 4.0, 4.0, 1.0]
    assert round(clock.now * 100, 6) == 20.0
