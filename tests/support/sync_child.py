"""One Klaviyo sync in its own process, for tests that kill it mid-sync (SIGKILL).

Usage: python -m tests.support.sync_child SEGMENT[,SEGMENT...]; settings from the environment.
Prints the sync report as JSON when it finishes.
"""

from __future__ import annotations

import json
import os
import sys

from activations.runner import run_sync
from activations.settings import Settings
from tests.support.activation import klaviyo_configs


def main() -> None:
    segments = sys.argv[1].split(",")
    report = run_sync(
        Settings.from_env(),
        destination="klaviyo",
        configs=klaviyo_configs(*segments),
        environ=os.environ,
    )
    print(json.dumps(report.as_dict()))


if __name__ == "__main__":
    main()
