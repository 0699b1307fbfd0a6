"""Named crash points for crash-safety tests.

`failpoint("after_change_log")` kills the process on the spot (SIGKILL: no cleanup, no rollback
handler, exactly like a power cut) when COHORTFLOW_FAILPOINT names it, and does nothing otherwise.
Tests run cohortflow in a subprocess with each failpoint in turn and check that no change was
lost or recorded twice.
"""

from __future__ import annotations

import os
import signal

ENV_VAR = "COHORTFLOW_FAILPOINT"


def failpoint(name: str) -> None:
    """Die here, hard, when the environment asks for crash point `name`."""
    if os.environ.get(ENV_VAR) == name:
        os.kill(os.getpid(), signal.SIGKILL)
