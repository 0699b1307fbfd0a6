"""The report a person opens: what holds syncs, why, samples and the id to approve, escaped."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from activations.quality.report import write_report
from activations.quality.results import CheckReport, CheckResult
from activations.settings import Settings
from activations.warehouse import Warehouse


def test_the_report_names_what_holds_syncs_and_escapes_the_data(tmp_path: Path) -> None:
    holding = CheckResult(
        check="payload_null_keys",
        subject="klaviyo/vip",
        status="failed",
        blocking=True,
        message="10 of 10 members (100.0%) have no email <script>",
        segment="vip",
        destination="klaviyo",
        samples=({"person_id": "p1", "key": None},),
        failure_id="chk-0123456789",
    )
    approved = CheckResult(
        "raw_completeness", "raw.orders", "failed", True, "0 rows", approved_by="maria",
        failure_id="chk-aaaaaaaaaa",
    )  # fmt: skip
    passed = CheckResult("dbt_tests", "dbt build", "passed", True, "all 97 dbt tests passed.")
    report = CheckReport("c1", "run-1", datetime(2026, 6, 30, 12), (holding, approved, passed))

    markdown, html = write_report(report, tmp_path / "reports")

    text = markdown.read_text(encoding="utf-8")
    assert "1 holding syncs back" in text
    assert "cohortflow approve chk-0123456789" in text
    assert "person_id=p1" in text and "failed (approved by maria)" in text
    page = html.read_text(encoding="utf-8")
    assert "&lt;script&gt;" in page and "<script>" not in page
    assert "FAILED (holds syncs)" in page and "chk-0123456789" in page


def test_each_warehouse_has_its_own_report_folder_unless_one_is_set(tmp_path: Path) -> None:
    def folder(**environ: str) -> Path | None:
        return Settings.from_env(environ).report_dir

    shop, other = tmp_path / "shop" / "shop.duckdb", tmp_path / "shop" / "staging.duckdb"
    assert (
        folder(COHORTFLOW_WAREHOUSE=str(shop)) == tmp_path / "shop" / "cohortflow_reports" / "shop"
    )
    assert folder(COHORTFLOW_WAREHOUSE=str(other)) != folder(COHORTFLOW_WAREHOUSE=str(shop))

    url = "postgresql://maria:s3cret-pw@db.internal:6543/store"
    postgres = folder(COHORTFLOW_WAREHOUSE=url)
    assert postgres == Path("cohortflow_reports") / "postgres-db.internal-6543-store"
    assert "s3cret" not in str(postgres) and "maria" not in str(postgres)
    assert folder(COHORTFLOW_WAREHOUSE=url.replace("/store", "/analytics")) != postgres

    chosen = str(tmp_path / "qa")
    assert folder(COHORTFLOW_WAREHOUSE=str(shop), COHORTFLOW_REPORT_DIR=chosen) == Path(chosen)


def test_the_report_names_its_warehouse_without_a_password(tmp_path: Path) -> None:
    warehouse = Warehouse.from_location("postgresql://maria:s3cret-pw@db.internal:6543/store")
    report = CheckReport("c1", None, datetime(2026, 6, 30, 12), (), warehouse.describe())
    markdown, html = write_report(report, tmp_path)
    for text in (markdown.read_text(encoding="utf-8"), html.read_text(encoding="utf-8")):
        assert "db.internal:6543/store" in text and "s3cret" not in text
