"""One sync in its own process, for tests that kill it mid-sync (SIGKILL, or a failpoint).

Usage: python -m tests.support.sync_child VENDOR[,VENDOR...] SEGMENT[,SEGMENT...]; settings
from the environment (each vendor's API key and base URL, `COHORTFLOW_WAREHOUSE`). Every segment
goes to every named vendor, kept at the vendor's usual place for it (`Vendor.configs`); the
vendors are synced one after the other, as `cohortflow run` does, a destination failing as a
whole not stopping the next. Prints {destination: sync report} as JSON when it finishes, and
exits with status 1 when a destination failed as a whole.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

from activations.runner import DestinationFailed, run_sync
from activations.settings import Settings
from tests.support.vendors import VENDORS, Vendor, configs_for

REPO_ROOT = Path(__file__).resolve().parents[2]


def command(vendors: Vendor | Sequence[Vendor], *segments: str) -> list[str]:
    """The command line that runs one sync of `segments` to `vendors` in a child process."""
    named = [vendors] if isinstance(vendors, Vendor) else list(vendors)
    return [
        sys.executable,
        "-m",
        "tests.support.sync_child",
        ",".join(v.name for v in named),
        ",".join(segments),
    ]


def start(
    vendors: Vendor | Sequence[Vendor], segments: tuple[str, ...], environ: Mapping[str, str]
) -> subprocess.Popen[str]:
    """Start the child with `environ` on top of this process's environment."""
    return subprocess.Popen(
        command(vendors, *segments),
        cwd=REPO_ROOT,
        env={**os.environ, **environ},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def main() -> None:
    vendors = [v for name in sys.argv[1].split(",") for v in VENDORS if v.name == name]
    configs = configs_for(vendors, sys.argv[2].split(","))
    settings = Settings.from_env()
    reports = {}
    failed_whole = False
    for vendor in vendors:
        try:
            report = run_sync(
                settings, destination=vendor.name, configs=configs, environ=os.environ
            )
        except DestinationFailed as failure:
            report = failure.report
            failed_whole = True
        reports[vendor.name] = report.as_dict()
    print(json.dumps(reports))
    if failed_whole:
        sys.exit(1)


if __name__ == "__main__":
    main()
