"""Segment YAML is validated before anything runs: `segments validate` on a fresh clone (no
warehouse), and `run` refusing a bad YAML before the phone lookup, the build or change detection
record anything. Each test drives a copy of the project, so the shared dbt project is never
edited."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from activations import transform
from activations.warehouse import Warehouse, connect
from tests.e2e.conftest import AS_OF, cohortflow

pytestmark = [pytest.mark.e2e, pytest.mark.integration]

REPO = transform.DBT_PROJECT_DIR.parent
TYPO = (
    'klaviyo: {list: "Lapsed VIPs", events: true}',
    'klaviyo: {list: "Lapsed VIPs", events: "no"}',
)


@pytest.fixture
def clone(tmp_path: Path) -> Path:
    """The package and the dbt project as a fresh clone has them (no target/, no warehouse)."""
    root = tmp_path / "clone"
    ignore = shutil.ignore_patterns("target", "logs", "__pycache__", "*.duckdb")
    shutil.copytree(REPO / "activations", root / "activations", ignore=ignore)
    shutil.copytree(REPO / "dbt_project", root / "dbt_project", ignore=ignore)
    return root


def cli(clone: Path, *args: str, warehouse: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(clone), "COLUMNS": "250"}
    if warehouse is not None:
        env["COHORTFLOW_WAREHOUSE"] = warehouse
    code = "from activations.cli.app import main; main()"
    return subprocess.run(
        [sys.executable, "-c", code, *args], capture_output=True, text=True, env=env, cwd=clone
    )


def break_yaml(clone: Path) -> None:
    path = clone / "dbt_project" / "models" / "segments" / "segments.yml"
    text = path.read_text(encoding="utf-8")
    assert TYPO[0] in text
    text = text.replace(TYPO[0], TYPO[1]).replace("destinations: {}", "destinaton: {}", 1)
    path.write_text(text, encoding="utf-8")


def test_validate_needs_no_warehouse_and_lists_every_problem(clone: Path) -> None:
    good = cli(clone, "segments", "validate")
    assert good.returncode == 0, good.stderr
    assert "8 segments valid" in good.stderr + good.stdout
    assert not list(clone.rglob("*.duckdb"))

    break_yaml(clone)
    bad = cli(clone, "segments", "validate")
    assert bad.returncode == 1
    lines = [line for line in bad.stderr.splitlines() if line.strip()]
    assert lines == [
        "error: seg_lapsed_vip: destinations.klaviyo.events: must be true or false (unquoted), "
        "got 'no'.",
        "error: seg_new_customers: destinaton: unknown key; did you mean `destinations`?",
    ]
    report = json.loads(cli(clone, "segments", "validate", "--json").stdout)
    assert not report["valid"]
    assert [p["segment"] for p in report["problems"]] == ["seg_lapsed_vip", "seg_new_customers"]


def test_run_refuses_a_bad_yaml_before_recording_anything(
    clone: Path, raw_store: Path, tmp_path: Path
) -> None:
    location = str(tmp_path / "w.duckdb")
    cohortflow("load", "--raw-dir", str(raw_store), warehouse=location)
    before = tables(location)
    break_yaml(clone)
    result = cli(clone, "run", "--as-of", AS_OF, warehouse=location)
    assert result.returncode == 1
    assert "seg_lapsed_vip: destinations.klaviyo.events" in result.stderr
    assert "seg_new_customers: destinaton" in result.stderr
    assert tables(location) == before  # no phone lookup, no models, no recorded run
    assert not any(schema == "analytics" for schema, _, _ in before)


def tables(location: str) -> set[tuple[str, str, int]]:
    """Every table of the warehouse with its row count."""
    with connect(Warehouse.from_location(location)) as connection:
        names = connection.exec_driver_sql(
            "select table_schema, table_name from information_schema.tables"
        ).all()
        return {
            (
                schema,
                name,
                connection.exec_driver_sql(
                    f'select count(*) from "{schema}"."{name}"'
                ).scalar_one(),
            )
            for schema, name in names
        }


def test_a_webhook_route_is_planned_and_skipped_while_its_receiver_is_not_set(
    clone: Path, raw_store: Path, tmp_path: Path
) -> None:
    path = clone / "dbt_project" / "models" / "segments" / "segments.yml"
    text = path.read_text(encoding="utf-8")
    routed = 'klaviyo: {list: "VIPs", events: true}'
    assert routed in text
    webhook = '\n            webhook: {url_env: "PARTNER_URL", secret_env: "PARTNER_SECRET"}'
    path.write_text(text.replace(routed, routed + webhook), encoding="utf-8")
    location = str(tmp_path / "w.duckdb")
    cohortflow("load", "--raw-dir", str(raw_store), warehouse=location)
    ran = cli(clone, "run", "--as-of", AS_OF, warehouse=location)
    assert ran.returncode == 0, ran.stderr
    assert (
        "webhook: not synced (PARTNER_URL, PARTNER_SECRET not set); see "
        "docs/destinations/webhook.md"
    ) in ran.stderr
    plan = json.loads(cli(clone, "plan", "--json", warehouse=location).stdout)
    (vip,) = [p for p in plan["plans"] if (p["destination"], p["segment"]) == ("webhook", "vip")]
    assert vip["adds"] > 0 and vip["held"] == 0
