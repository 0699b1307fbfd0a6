"""The committed Omnisend spec subsets and the sliding window the sandbox counts with.

Why: the sandbox routes and validates from these files, so a hand-edit or a stale copy would make
it accept or refuse requests Omnisend treats otherwise; and a fixed window in place of the
documented sliding one would let a client through that Omnisend throttles at a window edge.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from activations.sandbox.extract_spec import PROVENANCE_KEY, extract_subset, render, sha256_of
from activations.sandbox.limits import ApiClock, Limit, SlidingWindowLimiter
from activations.sandbox.omnisend import DOCUMENTS, STATED_LIMITS
from activations.sandbox.openapi import ApiSpec

SOURCES = Path("/work/shared/api-specs/omnisend")
SOURCE_SHA256 = {  # from shared/api-specs/omnisend/README.md
    "contacts": "52eb05971b77c04f84a4059c76179abb34600901f8a8b417cfcef2b8a5a33984",
    "events": "6176850d1f31f4dabca069194de5bf132ad9fb38a7a35382be86a17a557d61a9",
    "batches": "3cb8d6536e04bc29fef21c20e3e7c365fe6843a631db2df6e011b38f7034dbdf",
}


@pytest.mark.parametrize("name", sorted(DOCUMENTS))
def test_each_subset_is_exactly_what_extraction_makes(name: str) -> None:
    operations, committed = DOCUMENTS[name]
    document = json.loads(committed.read_text(encoding="utf-8"))
    assert document[PROVENANCE_KEY]["source_sha256"] == SOURCE_SHA256[name]
    assert sorted(ApiSpec(document).operations) == sorted(operations)
    source_path = SOURCES / f"omnisend-{name}-api-2026-03-15.json"
    if not source_path.exists():
        return  # the vendor file is not here: the recorded provenance is what we can check
    assert sha256_of(source_path) == SOURCE_SHA256[name]
    source = json.loads(source_path.read_text(encoding="utf-8"))
    fresh = extract_subset(
        source, operations, source_sha256=SOURCE_SHA256[name], source=source_path.name
    )
    assert render(fresh) == committed.read_text(encoding="utf-8"), "stale subset: extract_spec"


def test_the_stated_limits_quote_the_operation_descriptions() -> None:
    specs = [ApiSpec.load(path) for _, path in DOCUMENTS.values()]
    for operation_id, sentences in STATED_LIMITS.items():
        spec = next(s for s in specs if operation_id in s.operations)
        description = spec.operations[operation_id].raw["description"]
        for sentence in sentences:
            assert sentence in description, (operation_id, sentence)


def test_the_version_header_is_a_required_parameter_of_every_operation() -> None:
    for _, path in DOCUMENTS.values():
        for operation in ApiSpec.load(path).operations.values():
            header = next(p for p in operation.parameters if p.location == "header")
            assert (header.name, header.required) == ("Omnisend-Version", True)


class StepClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_a_sliding_window_refuses_a_burst_across_a_fixed_window_edge() -> None:
    wall = StepClock()
    limiter = SlidingWindowLimiter(ApiClock(monotonic=wall))
    limit = [Limit("brand", 400, 60.0)]
    wall.now = 50.0
    assert all(limiter.acquire("b", limit).allowed for _ in range(400))
    wall.now = 61.0  # a fixed window would have reset at 60
    refused = limiter.acquire("b", limit)
    assert not refused.allowed and refused.retry_after == 49
    wall.now = 110.0
    assert limiter.acquire("b", limit).allowed


@settings(max_examples=30, deadline=None)
@given(st.lists(st.floats(min_value=0.0, max_value=5.0), min_size=1, max_size=60))
def test_never_more_than_count_in_any_window(gaps: list[float]) -> None:
    wall = StepClock()
    limiter = SlidingWindowLimiter(ApiClock(monotonic=wall))
    limit = Limit("tags", 5, 10.0)
    allowed: list[float] = []
    for gap in gaps:
        wall.now += gap
        decision = limiter.acquire("b", [limit])
        if decision.allowed:
            allowed.append(wall.now)
        else:
            # retry_after is enough: at that instant the request is allowed
            assert sum(1 for t in allowed if t > wall.now + decision.retry_after - 10.0) < 5
    for t in allowed:
        assert sum(1 for u in allowed if t - 10.0 < u <= t) <= 5
