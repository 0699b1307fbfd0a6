"""Shared fixtures: an isolated environment per test and a real PostgreSQL server per session.

PostgreSQL tests use COHORTFLOW_TEST_POSTGRES_URL when it is set (a server you run); otherwise the
session starts a throwaway cluster (tests/support/postgres_server.py) and removes it afterwards.
Each test that needs a database gets a fresh one, so tests never see each other's tables.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.databases import temporary_database
from tests.support.postgres_server import throwaway_postgres

REPO_ROOT = Path(__file__).resolve().parent.parent
_COHORTFLOW_ENV = (
    "COHORTFLOW_WAREHOUSE",
    "COHORTFLOW_RAW_SCHEMA",
    "COHORTFLOW_STATE_SCHEMA",
    "COHORTFLOW_PHONE_REGION",
    "COHORTFLOW_DBT_TARGET",
    "COHORTFLOW_DUCKDB_PATH",
    "COHORTFLOW_TIME_SCALE",
    "KLAVIYO_API_KEY",
    "KLAVIYO_BASE_URL",
    "KLAVIYO_REVISION",
    "OMNISEND_API_KEY",
    "OMNISEND_BASE_URL",
    "OMNISEND_VERSION",
    "TWILIO_ACCOUNT_SID",
    "TWILIO_AUTH_TOKEN",
    "TWILIO_FROM",
    "TWILIO_MESSAGING_SERVICE_SID",
    "TWILIO_BASE_URL",
    "TWILIO_MESSAGES_PER_SECOND",
)


@pytest.fixture(autouse=True)
def isolated_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No test sees the developer's warehouse settings; dbt never phones home; the venv's `dbt`
    comes first on PATH (dagster-dbt runs the executable)."""
    for name in _COHORTFLOW_ENV:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("COHORTFLOW_REPORT_DIR", str(tmp_path / "cohortflow_reports"))
    monkeypatch.setenv("DBT_SEND_ANONYMOUS_USAGE_STATS", "false")
    monkeypatch.setenv("DO_NOT_TRACK", "1")
    bin_dir = str(Path(sys.executable).parent)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}")


@pytest.fixture(scope="session")
def postgres_server_url() -> Iterator[str]:
    """URL of a PostgreSQL server for the whole session (the maintenance database)."""
    configured = os.environ.get("COHORTFLOW_TEST_POSTGRES_URL")
    if configured:
        yield configured
        return
    with throwaway_postgres() as url:
        yield url


@pytest.fixture
def postgres_url(postgres_server_url: str) -> Iterator[str]:
    """A brand-new, empty database on the session's server, dropped after the test."""
    with temporary_database(postgres_server_url) as url:
        yield url


@pytest.fixture
def duckdb_url(tmp_path: Path) -> str:
    """A DuckDB warehouse file location in the test's temporary folder."""
    return str(tmp_path / "warehouse.duckdb")


@pytest.fixture(params=["duckdb", "postgres"])
def warehouse_location(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Each warehouse in turn: a DuckDB file, then a fresh PostgreSQL database."""
    if request.param == "duckdb":
        return str(tmp_path / "warehouse.duckdb")
    url: str = request.getfixturevalue("postgres_url")
    return url
