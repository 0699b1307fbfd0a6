"""A validation whose canary row did not come back is refused, whatever the other results say."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest

from activations.quality.validation import MetricsUnavailable, _in_suite_order


@dataclass
class Config:
    id: str


@dataclass
class Outcome:
    expectation_config: Config
    result: dict[str, Any] = field(default_factory=dict)
    success: bool = True


@dataclass
class Result:
    results: list[Outcome]


@dataclass
class Suite:
    expectations: list[Config]


def test_results_come_back_in_suite_order_without_the_canary() -> None:
    suite = Suite([Config("a"), Config("b"), Config("canary")])
    canary = Outcome(Config("canary"), {"observed_value": 1}, success=False)
    result = Result([canary, Outcome(Config("b")), Outcome(Config("a"))])
    ordered = _in_suite_order(result, suite, "s")
    assert [o.expectation_config.id for o in ordered.results] == ["a", "b"]


def test_a_canary_read_as_zero_rows_refuses_the_whole_validation() -> None:
    suite = Suite([Config("a"), Config("canary")])
    lost = Result([Outcome(Config("a")), Outcome(Config("canary"), {"observed_value": 0})])
    with pytest.raises(MetricsUnavailable, match="exactly one"):
        _in_suite_order(lost, suite, "s")
