"""Check thresholds as written in the dbt project: defaults, validation, dbt's freshness syntax."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml

from activations.quality.config import CheckConfigError, raw_table_checks, segment_checks
from activations.quality.gate import dbt_test_results, mask
from activations.transform import DBT_PROJECT_DIR

SOURCES_YML = DBT_PROJECT_DIR / "models" / "staging" / "_sources.yml"


def manifest(tmp_path: Path, **tables: dict[str, Any]) -> Path:
    sources = {
        f"source.cohortflow.raw.{name}": {"source_name": "raw", "name": name, "config": config}
        for name, config in tables.items()
    }
    path = tmp_path / "manifest.json"
    path.write_text(json.dumps({"sources": sources}), encoding="utf-8")
    return path


def test_raw_thresholds_come_from_dbt_sources_freshness_and_meta(tmp_path: Path) -> None:
    path = manifest(
        tmp_path,
        orders={
            "loaded_at_field": "ordered_at",
            "freshness": {"error_after": {"count": 36, "period": "hour"}},
            "meta": {"cohortflow": {"min_rows": 1, "max_duplicate_fraction": 0.1}},
        },
        customers={"meta": {"cohortflow": {"max_fill_drop": 0.8, "never_empty": ["email"]}}},
    )
    checks = {c.table: c for c in raw_table_checks(path)}
    orders = checks["orders"]
    assert (orders.loaded_at_field, orders.max_age) == ("ordered_at", timedelta(hours=36))
    assert (orders.min_rows, orders.key, orders.max_duplicate_fraction) == (1, "order_id", 0.1)
    assert orders.blocking
    assert (orders.max_fill_drop, orders.never_empty) == (0.5, ())
    customers = checks["customers"]
    assert (customers.max_fill_drop, customers.never_empty) == (0.8, ("email",))
    events = checks["events"]  # not configured: completeness against history only
    assert (events.max_age, events.min_rows, events.key, events.max_row_drop) == (
        None,
        0,
        None,
        0.5,
    )


@pytest.mark.parametrize(
    ("config", "complaint"),
    [
        ({"loaded_at_field": "shipped_at"}, "not a column"),
        (
            {
                "loaded_at_field": "ordered_at",
                "freshness": {"error_after": {"count": 2, "period": "week"}},
            },
            "period",
        ),
        ({"meta": {"cohortflow": {"max_row_drop": 1.5}}}, "between 0 and 1"),
        ({"meta": {"cohortflow": {"min_rows": -1}}}, "whole number"),
        ({"meta": {"cohortflow": {"blocking": "no"}}}, "true or false"),
        ({"meta": {"cohortflow": {"max_fill_drop": -0.1}}}, "between 0 and 1"),
        ({"meta": {"cohortflow": {"never_empty": "email"}}}, "list of column names"),
        ({"meta": {"cohortflow": {"never_empty": ["e_mail"]}}}, "e_mail, not a column"),
    ],
)
def test_bad_raw_thresholds_name_the_table(
    tmp_path: Path, config: dict[str, Any], complaint: str
) -> None:
    with pytest.raises(CheckConfigError, match=complaint) as error:
        raw_table_checks(manifest(tmp_path, orders=config))
    assert "raw.orders" in str(error.value)


def test_segment_thresholds_default_and_validate() -> None:
    defaults = segment_checks("vip", None)
    assert (defaults.max_null_key_fraction, defaults.max_change_fraction) == (0.5, 0.5)
    assert defaults.is_blocking("segment_volume")
    custom = segment_checks(
        "vip", {"max_change_fraction": 2, "blocking": {"segment_volume": False}}
    )
    assert custom.max_change_fraction == 2.0 and not custom.is_blocking("segment_volume")
    for bad, complaint in [
        ({"max_nul_key_fraction": 0.1}, "unknown setting"),
        ({"max_null_key_fraction": 2}, "between 0 and 1"),
        ({"blocking": {"raw_freshness": False}}, "blocking takes"),
        ({"expectations": ["expect_column_values_to_not_be_null"]}, "one mapping"),
        ({"min_members": True}, "whole number"),
    ]:
        with pytest.raises(CheckConfigError, match=complaint) as error:
            segment_checks("vip", bad)
        assert "segment vip" in str(error.value)


def test_dbt_test_results_fail_on_failed_tests_and_warn_on_warnings(tmp_path: Path) -> None:
    path = tmp_path / "run_results.json"

    def results(*statuses: str) -> list[Any]:
        path.write_text(
            json.dumps(
                {
                    "results": [
                        {"unique_id": f"test.cohortflow.t{i}.abc", "status": s}
                        for i, s in enumerate(statuses)
                    ]
                    + [{"unique_id": "model.cohortflow.m", "status": "error"}]
                }
            ),
            encoding="utf-8",
        )
        return dbt_test_results(path)

    (passed,) = results("pass", "pass")
    assert passed.status == "passed"
    (warned,) = results("pass", "warn")
    assert warned.status == "warned" and "t1" in warned.message
    (failed,) = results("fail", "error", "pass")
    assert (failed.status, failed.holds, failed.observed) == ("failed", True, 2)
    (missing,) = dbt_test_results(tmp_path / "absent.json")
    assert missing.status == "warned" and not missing.holds


def test_reports_mask_addresses() -> None:
    assert mask("jane.doe@example.com") == "ja***@example.com"
    assert mask("+15550100002") == "+155***02"
    assert mask(None) is None


def test_the_projects_raw_thresholds_are_valid_and_name_the_identity_columns(
    tmp_path: Path,
) -> None:
    sources = yaml.safe_load(SOURCES_YML.read_text(encoding="utf-8"))["sources"]
    raw = next(source for source in sources if source["name"] == "raw")
    checks = {
        c.table: c
        for c in raw_table_checks(
            manifest(tmp_path, **{t["name"]: t.get("config", {}) for t in raw["tables"]})
        )
    }
    assert checks["customers"].never_empty == ("customer_id", "email")
    assert "phone" not in checks["customers"].never_empty  # an email-only store has none
    assert {"customer_id", "email"} <= set(checks["orders"].never_empty)
    assert all(c.max_fill_drop == 0.5 for c in checks.values())
