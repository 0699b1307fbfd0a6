"""Run one benchmark step as a child process and measure its wall time and peak memory.

A child process per step gives each step its own peak RSS (from `wait4`), so one step's memory
never hides behind another's, and the numbers are what a user running the command would see.
"""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class StepResult:
    """Wall time in seconds and peak resident memory in MiB of one command."""

    name: str
    seconds: float
    peak_mib: float


def run_step(name: str, command: Sequence[str], env: Mapping[str, str] | None = None) -> StepResult:
    """Run `command`, fail loudly if it fails, and return its time and peak memory."""
    started = time.perf_counter()
    process = subprocess.Popen(
        list(command),
        env={**os.environ, **(env or {})},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    _, status, usage = os.wait4(process.pid, 0)
    seconds = time.perf_counter() - started
    stderr = process.stderr.read().decode() if process.stderr else ""
    if os.waitstatus_to_exitcode(status) != 0:
        raise RuntimeError(f"benchmark step {name} failed: {' '.join(command)}\n{stderr[-2000:]}")
    return StepResult(name=name, seconds=seconds, peak_mib=usage.ru_maxrss / 1024)
