"""One SMS sync in its own process, for tests that kill it (SIGKILL, or a failpoint).

Usage: python -m tests.support.sms_child SEGMENT[,SEGMENT...]; settings from the environment
(TWILIO_*, `COHORTFLOW_WAREHOUSE`). Each segment is keyed by phone and texts its entries with
the `winback` template. Prints the sync report as JSON when it finishes.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Mapping, Sequence

from activations.runner import run_sync
from activations.settings import Settings
from tests.support.sms import sms_configs
from tests.support.sync_child import REPO_ROOT


def start(segments: Sequence[str], environ: Mapping[str, str]) -> subprocess.Popen[str]:
    """Start the child with `environ` on top of this process's environment."""
    return subprocess.Popen(
        [sys.executable, "-m", "tests.support.sms_child", ",".join(segments)],
        cwd=REPO_ROOT,
        env={**os.environ, **environ},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def main() -> None:
    report = run_sync(
        Settings.from_env(),
        destination="sms",
        configs=sms_configs(sys.argv[1].split(",")),
        environ=os.environ,
    )
    print(json.dumps(report.as_dict()))


if __name__ == "__main__":
    main()
