"""The code location loads on a fresh clone from a venv that is not on PATH (`.venv/bin/pytest`,
`.venv/bin/dagster`): the manifest is parsed with the venv's own dbt, not whatever `dbt` PATH
finds (there is none here)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[2]


def test_definitions_load_with_no_dbt_on_path(tmp_path: Path) -> None:
    ignore = shutil.ignore_patterns("target", "logs", "__pycache__", "*.duckdb")
    for package in ("activations", "orchestration", "dbt_project"):
        shutil.copytree(REPO / package, tmp_path / package, ignore=ignore)
    code = "from orchestration.definitions import defs; print(len(defs.jobs or []))"
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=tmp_path,
        env={"HOME": str(tmp_path), "PATH": "/usr/bin:/bin", "PYTHONPATH": str(tmp_path)},
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert (tmp_path / "dbt_project" / "target" / "dagster" / "manifest.json").is_file()
