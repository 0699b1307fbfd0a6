"""Helpers for driving the `cohortflow` CLI as a user would, and one synthetic store per session."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

AS_OF = "2026-06-30T12:00:00"
CLI = str(Path(sys.executable).parent / "cohortflow")


def cohortflow(*args: str, warehouse: str | None = None, check: bool = True):
    env = {**os.environ}
    if warehouse is not None:
        env["COHORTFLOW_WAREHOUSE"] = warehouse
    result = subprocess.run([CLI, *args], capture_output=True, text=True, env=env, check=False)
    if check and result.returncode != 0:
        raise AssertionError(f"cohortflow {' '.join(args)} failed:\n{result.stderr}")
    return result


def run_json(*args: str, warehouse: str) -> dict[str, Any]:
    return json.loads(cohortflow(*args, "--json", warehouse=warehouse).stdout)


@pytest.fixture(scope="session")
def raw_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small synthetic store, generated once per session through the CLI."""
    folder = tmp_path_factory.mktemp("store") / "raw"
    cohortflow(
        "generate", "--persons", "1500", "--seed", "7", "--until", AS_OF, "--out", str(folder)
    )
    return folder
