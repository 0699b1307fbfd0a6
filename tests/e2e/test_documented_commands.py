"""The commands the README and the docs tell a new user to type, run exactly as written.

A fenced ```bash block directly below a `<!-- doc-test -->` comment is part of a document's
script: the marked blocks of one document run in order, in one bash session (so an `export` in one
block holds for the next), in an empty directory that holds only a link to the project's `.venv`,
as a user's fresh shell would. Documentation that drifts from the CLI fails here, not in a user's
first hour. Blocks left unmarked are the ones that need credentials or name ids of the reader's own
runs; keep those few.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = [pytest.mark.e2e, pytest.mark.integration]

REPO = Path(__file__).resolve().parents[2]
MARKER = "<!-- doc-test -->"
BLOCK = re.compile(re.escape(MARKER) + r"\s*```bash\n(.*?)```", re.DOTALL)
DOCUMENTS = sorted(
    path.relative_to(REPO)
    for path in [REPO / "README.md", *(REPO / "docs").rglob("*.md")]
    if MARKER in path.read_text(encoding="utf-8")
)


def script_of(document: Path) -> str:
    """The document's marked blocks, in order, as one bash script."""
    blocks = BLOCK.findall((REPO / document).read_text(encoding="utf-8"))
    assert blocks, f"{document} has a {MARKER} marker without a ```bash block after it"
    return "set -euo pipefail\n" + "\n".join(blocks)


def test_the_readme_and_the_quickstart_are_tested() -> None:
    assert {Path("README.md"), Path("docs/quickstart.md")} <= set(DOCUMENTS)


@pytest.mark.parametrize("document", DOCUMENTS, ids=str)
def test_documented_commands_work_as_written(document: Path, tmp_path: Path) -> None:
    (tmp_path / ".venv").symlink_to(Path(sys.executable).parent.parent)
    environ = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("COHORTFLOW_", "KLAVIYO_", "OMNISEND_", "DAGSTER_"))
    }
    result = subprocess.run(
        ["bash", "-c", script_of(document)],
        cwd=tmp_path,
        env={**environ, "HOME": str(tmp_path), "COLUMNS": "100"},
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, (
        f"{document}: a documented command failed (exit {result.returncode}):\n"
        f"{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
    )
    assert "Traceback" not in result.stderr
