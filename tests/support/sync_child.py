"""One sync in its own process, for tests that kill it mid-sync (SIGKILL, or a failpoint).

Usage: python -m tests.support.sync_child VENDOR SEGMENT[,SEGMENT...]; settings from the
environment (the vendor's API key and base URL, `COHORTFLOW_WAREHOUSE`). Each segment is kept at
the vendor's usual place for it (`Vendor.configs`). Prints the sync report as JSON when it
finishes.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path

from activations.runner import run_sync
from activations.settings import Settings
from tests.support.vendors import VENDORS, Vendor

REPO_ROOT = Path(__file__).resolve().parents[2]


def command(vendor: Vendor, *segments: str) -> list[str]:
    """The command line that runs one sync of `segments` to `vendor` in a child process."""
    return [sys.executable, "-m", "tests.support.sync_child", vendor.name, ",".join(segments)]


def start(
    vendor: Vendor, segments: tuple[str, ...], environ: Mapping[str, str]
) -> subprocess.Popen[str]:
    """Start the child with `environ` on top of this process's environment."""
    return subprocess.Popen(
        command(vendor, *segments),
        cwd=REPO_ROOT,
        env={**os.environ, **environ},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def main() -> None:
    vendor = next(v for v in VENDORS if v.name == sys.argv[1])
    report = run_sync(
        Settings.from_env(),
        destination=vendor.name,
        configs=vendor.configs(*sys.argv[2].split(",")),
        environ=os.environ,
    )
    print(json.dumps(report.as_dict()))


if __name__ == "__main__":
    main()
