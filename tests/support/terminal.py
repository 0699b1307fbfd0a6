"""Run a command as it runs in a terminal, and press Ctrl-C while it works.

The command's stderr is a pseudo-terminal, so it shows the progress display a user sees; the
command leads its own process group, and SIGINT goes to that group, which is what a terminal's
Ctrl-C does. Nothing is raised from inside the command (a signal raised from a dbt callback
aborts DuckDB's C++ instead of interrupting Python).
"""

from __future__ import annotations

import os
import pty
import re
import select
import signal
import subprocess
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

_ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


@dataclass(frozen=True)
class Interrupted:
    """How the command ended after Ctrl-C, with its terminal output free of escape codes."""

    returncode: int
    stdout: str
    terminal: str


def interrupt_when(
    command: Sequence[str], env: Mapping[str, str], marker: str, *, timeout: float = 300.0
) -> Interrupted:
    """Start `command`, send Ctrl-C once its terminal output shows `marker`, and wait for it.

    Raises:
        AssertionError: `marker` never showed, or the command did not end after Ctrl-C, within
            `timeout` seconds each; the output so far is in the message.
    """
    controller, terminal = pty.openpty()
    process = subprocess.Popen(
        command,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=terminal,
        env=dict(env),
        start_new_session=True,
    )
    os.close(terminal)
    output = bytearray()
    try:
        _read_until(controller, output, lambda: marker in _plain(output), timeout)
        if marker not in _plain(output):
            raise AssertionError(f"{marker!r} never showed:\n{_plain(output)}")
        os.killpg(process.pid, signal.SIGINT)
        _read_until(controller, output, lambda: process.poll() is not None, timeout)
        returncode = process.wait(timeout=5)
        _read_until(controller, output, lambda: False, 0.5)  # what it wrote just before exiting
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
        os.close(controller)
    stdout = process.stdout.read().decode() if process.stdout else ""
    return Interrupted(returncode=returncode, stdout=stdout, terminal=_plain(output))


def _read_until(
    controller: int, output: bytearray, done: Callable[[], bool], timeout: float
) -> None:
    """Append what the terminal shows to `output` until `done()` or `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while not done() and time.monotonic() < deadline:
        ready, _, _ = select.select([controller], [], [], 0.2)
        if not ready:
            continue
        try:
            chunk = os.read(controller, 65536)
        except OSError:  # EIO: every process holding the terminal has exited
            return
        if not chunk:
            return
        output += chunk


def _plain(output: bytes | bytearray) -> str:
    return _ANSI.sub("", output.decode(errors="replace"))
