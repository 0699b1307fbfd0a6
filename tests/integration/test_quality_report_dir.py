"""Two warehouses checked from the same folder keep their own quality reports, each naming the
warehouse it describes (a PostgreSQL one without its password)."""

from __future__ import annotations

from pathlib import Path

import pytest

from activations.quality.gate import run_checks
from activations.quality.report import MARKDOWN_NAME
from activations.settings import Settings
from activations.warehouse import Warehouse, connect

pytestmark = pytest.mark.integration


def checked(location: str, run_results: Path) -> Path:
    """The dbt part of the checks on `location`, as `cohortflow checks` would run them with
    only COHORTFLOW_WAREHOUSE set; the Markdown report it wrote."""
    settings = Settings.from_env({"COHORTFLOW_WAREHOUSE": location})
    assert settings.report_dir is not None
    run_checks(settings, configs={}, parts=("dbt",), run_results_path=run_results)
    return settings.report_dir / MARKDOWN_NAME


def test_two_warehouses_do_not_overwrite_each_others_report(
    tmp_path: Path, postgres_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("COHORTFLOW_REPORT_DIR", raising=False)
    monkeypatch.chdir(tmp_path)
    missing = tmp_path / "no_run_results.json"
    shop, staging = str(tmp_path / "shop.duckdb"), str(tmp_path / "staging.duckdb")
    for location in (shop, staging):  # as a first load creates them
        with connect(Warehouse.from_location(location), create=True):
            pass

    reports = [checked(location, missing) for location in (shop, staging, postgres_url)]

    assert len(set(reports)) == 3
    assert reports[0].parent.parent == tmp_path / "cohortflow_reports"  # beside the files
    texts = [report.read_text(encoding="utf-8") for report in reports]
    assert "shop.duckdb" in texts[0] and "staging.duckdb" not in texts[0]
    assert "staging.duckdb" in texts[1] and "shop.duckdb" not in texts[1]
    database = postgres_url.rsplit("/", 1)[1]
    assert database in reports[2].parent.name and f"/{database}" in texts[2]
    password = Settings.from_env({"COHORTFLOW_WAREHOUSE": postgres_url}).warehouse.url.password
    if password:
        assert password not in texts[2] and password not in str(reports[2])
