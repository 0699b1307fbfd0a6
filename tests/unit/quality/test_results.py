"""Failure ids and listing limits: an approval covers one finding, a truncated list holds all."""

from __future__ import annotations

from typing import Any

from activations.quality.results import CheckResult, failure_id
from activations.quality.suites import Route, _pairs, payload_checks


def test_two_findings_on_one_subject_have_different_ids() -> None:
    a = CheckResult("expect_column_values_to_not_be_null", "segment vip", "failed", True,
                    "expect_column_values_to_not_be_null(column='a'): 2 unexpected rows.",
                    observed=2)  # fmt: skip
    b = CheckResult(a.check, a.subject, "failed", True, a.message.replace("'a'", "'b'"), observed=2)
    assert failure_id(a, "run-1") != failure_id(b, "run-1")
    assert failure_id(a, "run-1") == failure_id(a, "run-1")
    assert failure_id(a, "run-1") != failure_id(a, "run-2")


class Outcome:
    def __init__(self, rows: list[dict[str, Any]], count: int) -> None:
        self.result = {"observed_value": count, "details": {"unexpected_rows": rows}}


def test_pairs_gx_did_not_list_are_held_when_its_list_was_cut_short() -> None:
    (nulls,) = [c for c in payload_checks("duckdb") if c.name == "payload_null_keys"]
    routes = [Route(f"s{i}", "klaviyo", "email", 0.5, 0.0, 0.0, {}) for i in range(3)]
    listed = [{"segment": "s0", "destination": "klaviyo", "members": 4, "bad": 4}]

    complete = _pairs(nulls, routes)(Outcome(listed, count=1))
    assert [r.status for r in complete] == ["failed", "passed", "passed"]

    cut_short = _pairs(nulls, routes)(Outcome(listed, count=2))  # one failing pair unlisted
    assert [r.status for r in cut_short] == ["failed", "failed", "failed"]
    assert all(r.holds for r in cut_short)
