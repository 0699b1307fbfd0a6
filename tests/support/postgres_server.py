"""Throwaway PostgreSQL clusters for tests and benchmarks.

Why this exists: the PostgreSQL half of the suite needs a real server, and CI (and most laptops)
have the server binaries but no running, reachable cluster. Rather than depending on a system
service, a Docker daemon or a shared database whose state leaks between runs, every consumer gets
a brand-new cluster in a temporary directory, on a free loopback port, torn down afterwards.

    from tests.support.postgres_server import throwaway_postgres

    with throwaway_postgres() as url:  # postgresql+psycopg2://postgres@127.0.0.1:<port>/cohortflow
        engine = sqlalchemy.create_engine(url)

Or, for a developer shell (prints the URL, Ctrl-C stops the server and deletes everything)::

    python -m tests.support.postgres_server [--dbname NAME]

Root: PostgreSQL refuses to run as root, and CI runs as root. When we are root, ``initdb`` and
``pg_ctl`` run as the ``postgres`` OS account (created by Debian's ``postgresql`` package) and
the temporary directory is handed to it; otherwise everything runs as the current user.

Durability is switched off (fsync, synchronous_commit, full_page_writes): the data is deleted
on exit anyway, and it makes the cluster noticeably faster to fill.

Only the standard library is imported at module level (psycopg2 is imported when the database
is created) so ``find_pg_bin`` also works from a bare interpreter.
"""

from __future__ import annotations

import argparse
import os
import pwd
import re
import shlex
import shutil
import signal
import socket
import stat
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
from typing import Any
from urllib.parse import quote

__all__ = ["SERVER_OS_USER", "URL_SCHEME", "find_pg_bin", "throwaway_postgres"]

#: OS account that runs the server when we are root (PostgreSQL refuses to run as root).
SERVER_OS_USER = "postgres"
#: SQLAlchemy 2.1 made psycopg (v3) the default driver for plain ``postgresql://``; the project
#: ships psycopg2-binary, so the driver is named explicitly.
URL_SCHEME = "postgresql+psycopg2"
#: Database superuser created by initdb; independent of the OS account, so URLs are stable.
SUPERUSER = "postgres"

_PG_LIB_ROOT = Path("/usr/lib/postgresql")  # Debian/Ubuntu: /usr/lib/postgresql/<major>/bin
_REQUIRED_EXES = ("initdb", "pg_ctl", "postgres")  # pg_ctl looks for `postgres` next to itself
_SERVER_SETTINGS = {
    "listen_addresses": "127.0.0.1",
    "fsync": "off",
    "synchronous_commit": "off",
    "full_page_writes": "off",
}
_INITDB_TIMEOUT_S = 120
_START_TIMEOUT_S = 60
_STOP_TIMEOUT_S = 30
# A free port can be taken by someone else between probing and binding (e.g. two suites
# starting servers at once): retry a few times, but only for that specific failure.
_PORT_ATTEMPTS = 3
_BIND_FAILURE = re.compile(r"could not (bind|create listen socket)|Address already in use")
_LOG_TAIL_LINES = 40
# Unix socket paths are limited to ~107 bytes; leave room for "/.s.PGSQL.65535".
_MAX_SOCKET_DIR_LEN = 90


def find_pg_bin() -> Path | None:
    """Return the directory holding ``initdb``/``pg_ctl``/``postgres``, or None.

    ``initdb`` on PATH wins (resolved through symlinks, because Debian-style setups link only
    some tools into a PATH directory while ``pg_ctl`` needs its siblings); otherwise the newest
    ``/usr/lib/postgresql/<version>/bin``, which is where Debian's packages put them without
    adding them to PATH. ``.ci/run`` mirrors this logic to decide whether to apt-get install.
    """
    on_path = shutil.which("initdb")
    if on_path:
        candidate = Path(on_path).resolve().parent
        if _is_pg_bin(candidate):
            return candidate
    versioned = [d for d in _PG_LIB_ROOT.glob("*/bin") if _is_pg_bin(d)]
    if not versioned:
        return None
    return max(versioned, key=lambda d: tuple(int(n) for n in re.findall(r"\d+", d.parent.name)))


def _is_pg_bin(directory: Path) -> bool:
    return all(os.access(directory / exe, os.X_OK) for exe in _REQUIRED_EXES)


@dataclass(frozen=True)
class _RunAs:
    """Who runs initdb/pg_ctl (and therefore the server): ourselves, or the postgres account."""

    uid: int | None = None
    gid: int | None = None
    name: str = field(default_factory=lambda: pwd.getpwuid(os.geteuid()).pw_name)

    @classmethod
    def for_current_process(cls) -> _RunAs:
        """As root, switch to SERVER_OS_USER; as anyone else, stay who we are."""
        if os.geteuid() != 0:
            return cls()
        try:
            account = pwd.getpwnam(SERVER_OS_USER)
        except KeyError:
            raise RuntimeError(
                f"running as root, but there is no {SERVER_OS_USER!r} OS user to run PostgreSQL "
                "as (it refuses to run as root); install the distribution's postgresql package "
                "(which creates it) or run the tests as an unprivileged user"
            ) from None
        return cls(uid=account.pw_uid, gid=account.pw_gid, name=SERVER_OS_USER)

    def popen_kwargs(self) -> dict[str, Any]:
        """subprocess arguments that drop to this account; extra_groups=[] sheds root's groups."""
        if self.uid is None:
            return {}
        return {"user": self.uid, "group": self.gid, "extra_groups": []}

    def hand_over(self, path: Path) -> None:
        """Give ``path`` to the server account so it can create the cluster and socket there."""
        if self.uid is not None and self.gid is not None:
            os.chown(path, self.uid, self.gid)


def _make_base_dir(run_as: _RunAs) -> Path:
    """mkdtemp, somewhere the server account can reach and short enough for a unix socket.

    mkdtemp's 0700 is fine once the directory is chowned to the server account, but every
    ancestor must also be traversable by it: a root-only TMPDIR (say /root/tmp) is not, so
    fall back to /tmp (world-traversable, sticky) in that case or if TMPDIR is too long.
    """
    parent = Path(tempfile.gettempdir())
    too_long = len(str(parent)) > _MAX_SOCKET_DIR_LEN - 30
    if too_long or (run_as.uid is not None and not _traversable_by_others(parent)):
        parent = Path("/tmp")
    base = Path(tempfile.mkdtemp(prefix="cohortflow-pg-", dir=parent))
    run_as.hand_over(base)
    return base


def _traversable_by_others(path: Path) -> bool:
    resolved = path.resolve()
    return all(p.stat().st_mode & stat.S_IXOTH for p in (resolved, *resolved.parents))


def _free_port() -> int:
    """Ask the kernel for a currently free loopback port (racy by nature; see _PORT_ATTEMPTS)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _tail(path: Path, lines: int = _LOG_TAIL_LINES) -> str:
    try:
        text = path.read_text(errors="replace")
    except OSError as exc:
        return f"(no server log at {path}: {exc})"
    return "\n".join(text.splitlines()[-lines:]) or "(server log is empty)"


def _run(cmd: list[str], *, run_as: _RunAs, cwd: Path, timeout: float) -> None:
    """Run a PostgreSQL tool as the server account; raise with its output if it fails.

    cwd is the temp dir because the server account may not be able to read ours (e.g. /root).
    """
    proc = subprocess.run(
        cmd,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
        **run_as.popen_kwargs(),
    )
    if proc.returncode != 0:
        raise RuntimeError(
            f"{Path(cmd[0]).name} failed (exit {proc.returncode}, as OS user {run_as.name}):\n"
            f"{proc.stdout}{proc.stderr}"
        )


def _start(bin_dir: Path, base: Path, data_dir: Path, log: Path, run_as: _RunAs) -> int:
    """Start the server on a free port and wait until it accepts connections; return the port.

    start_new_session detaches the postmaster from our terminal's process group, so Ctrl-C
    reaches only Python, whose cleanup then stops the server in order (instead of the server
    shutting down on its own while we are deleting its directory).
    """
    settings = " ".join(f"-c {k}={v}" for k, v in _SERVER_SETTINGS.items())
    for _ in range(_PORT_ATTEMPTS):
        port = _free_port()
        # pg_ctl hands -o to /bin/sh, hence the quoting of the socket directory.
        options = f"-p {port} -k {shlex.quote(str(base))} {settings}"
        cmd = [str(bin_dir / "pg_ctl"), "start", "-w", "-t", str(_START_TIMEOUT_S)]
        cmd += ["-D", str(data_dir), "-l", str(log), "-o", options]
        proc = subprocess.run(
            cmd,
            cwd=base,
            capture_output=True,
            text=True,
            timeout=_START_TIMEOUT_S + 30,
            check=False,
            start_new_session=True,
            **run_as.popen_kwargs(),
        )
        if proc.returncode == 0:
            return port
        if not _BIND_FAILURE.search(_tail(log)):
            break
    raise RuntimeError(
        f"PostgreSQL did not start (pg_ctl exit {proc.returncode}, as OS user {run_as.name}):\n"
        f"{proc.stdout}{proc.stderr}\n--- tail of {log} ---\n{_tail(log)}"
    )


def _stop(bin_dir: Path, base: Path, data_dir: Path, run_as: _RunAs) -> None:
    """Stop the server immediately (no checkpoint: the data is about to be deleted).

    Never raises: this runs in cleanup, possibly while another exception is propagating. If
    pg_ctl cannot stop it, the postmaster we started (pid from postmaster.pid) is killed.
    """
    pid_file = data_dir / "postmaster.pid"
    if not pid_file.exists():
        return
    cmd = [str(bin_dir / "pg_ctl"), "stop", "-w", "-t", str(_STOP_TIMEOUT_S)]
    cmd += ["-m", "immediate", "-D", str(data_dir)]
    with suppress(RuntimeError, subprocess.TimeoutExpired):
        _run(cmd, run_as=run_as, cwd=base, timeout=_STOP_TIMEOUT_S + 10)
    if not pid_file.exists():
        return
    with suppress(OSError, ValueError, IndexError):
        pid = int(pid_file.read_text().splitlines()[0])
        os.kill(pid, signal.SIGKILL)
        for _ in range(100):  # up to ~5s for it to go away before its directory does
            os.kill(pid, 0)  # raises ProcessLookupError (an OSError) once it is gone
            time.sleep(0.05)


def _create_database(port: int, dbname: str) -> None:
    """CREATE DATABASE over TCP, which also proves the loopback listener works."""
    import psycopg2  # lazy: find_pg_bin and --help work without the venv
    from psycopg2 import sql

    conn = psycopg2.connect(
        host="127.0.0.1", port=port, user=SUPERUSER, dbname="postgres", connect_timeout=10
    )
    try:
        conn.autocommit = True  # CREATE DATABASE cannot run inside a transaction
        with conn.cursor() as cur:
            cur.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(dbname)))
    finally:
        conn.close()


@contextmanager
def throwaway_postgres(dbname: str = "cohortflow") -> Iterator[str]:
    """Start a fresh PostgreSQL cluster and yield a SQLAlchemy URL to database ``dbname``.

    The URL looks like ``postgresql+psycopg2://postgres@127.0.0.1:<port>/cohortflow`` (trust
    auth, no password). The driver is explicit because SQLAlchemy 2.1 defaults plain
    ``postgresql://`` to psycopg 3, which is not installed; for libpq/psycopg2/dbt, use
    ``sqlalchemy.make_url(url)`` to get host/port/user/database.

    On exit, even if the body raised, the server is stopped and its temporary directory
    deleted. Several can run at once: each gets its own directory and port. Raises RuntimeError
    (with the tail of the server log when there is one) if the binaries are missing or the
    server cannot be set up.
    """
    bin_dir = find_pg_bin()
    if bin_dir is None:
        raise RuntimeError(
            "PostgreSQL server binaries not found (no initdb on PATH or in "
            f"{_PG_LIB_ROOT}/*/bin); on Debian/Ubuntu: apt-get install postgresql"
        )
    run_as = _RunAs.for_current_process()
    base = _make_base_dir(run_as)
    data_dir = base / "data"
    log = base / "server.log"
    try:
        initdb = [str(bin_dir / "initdb"), "-D", str(data_dir), "-A", "trust", "-U", SUPERUSER]
        # --no-sync: skip fsyncing the fresh cluster to disk; nothing here must survive a crash.
        initdb += ["-E", "UTF8", "--no-locale", "--no-sync"]
        _run(initdb, run_as=run_as, cwd=base, timeout=_INITDB_TIMEOUT_S)
        try:
            port = _start(bin_dir, base, data_dir, log, run_as)
            if dbname != "postgres":
                try:
                    _create_database(port, dbname)
                except Exception as exc:
                    raise RuntimeError(
                        f"PostgreSQL started on port {port} but CREATE DATABASE {dbname!r} "
                        f"failed: {exc}\n--- tail of {log} ---\n{_tail(log)}"
                    ) from exc
            yield f"{URL_SCHEME}://{SUPERUSER}@127.0.0.1:{port}/{quote(dbname, safe='')}"
        finally:
            _stop(bin_dir, base, data_dir, run_as)
    finally:
        shutil.rmtree(base, ignore_errors=True)


def _raise_keyboard_interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> int:
    """Developer entry point: start a server, print its URL, keep it until Ctrl-C."""
    parser = argparse.ArgumentParser(
        prog="python -m tests.support.postgres_server",
        description="Start a throwaway PostgreSQL server; Ctrl-C stops it and deletes its data.",
    )
    parser.add_argument("--dbname", default="cohortflow", help="database to create")
    args = parser.parse_args(argv)
    # `kill` or a closed terminal should clean up too, not leave a server and a temp dir behind.
    # SIGINT is set explicitly because shells start background jobs (`... &`) with it ignored.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, _raise_keyboard_interrupt)
    signal.signal(signal.SIGHUP, _raise_keyboard_interrupt)
    started = time.monotonic()
    try:
        with throwaway_postgres(args.dbname) as url:
            print(url, flush=True)
            print(
                f"# ready in {time.monotonic() - started:.1f}s; for the test suite:\n"
                f"#   export COHORTFLOW_TEST_POSTGRES_URL={url}\n"
                "# Ctrl-C stops the server and deletes its data.",
                file=sys.stderr,
                flush=True,
            )
            while True:
                time.sleep(3600)
    except KeyboardInterrupt:
        print("# stopped", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
