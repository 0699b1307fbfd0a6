"""The `cohortflow` command line: one Typer app, one module per command in commands/."""

from __future__ import annotations

import atexit
import os
import sys
from importlib.metadata import version
from typing import Annotated

import typer

from activations.cli.commands import (
    changes,
    checks,
    generate,
    load,
    plan,
    run,
    runs,
    segments,
    sms,
    sync,
)
from activations.cli.output import print_error, print_note
from activations.errors import CohortflowError

app = typer.Typer(
    name="cohortflow",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
    # Click's plain formatter re-flows docstring paragraphs to the terminal width; rich's keeps
    # the docstrings' own line breaks and wraps them again mid-sentence.
    rich_markup_mode=None,
)
# One line each for `cohortflow --help`: click would cut the docstrings' first sentence at 45
# characters.
app.command(name="generate", short_help="Write a synthetic store as Parquet files.")(
    generate.generate
)
app.command(name="load", short_help="Load a folder of raw Parquet files into the warehouse.")(
    load.load
)
app.command(name="run", short_help="Build the models, record changes, sync: the main job.")(run.run)
app.command(name="changes", short_help="Who entered, exited or changed in a recorded run.")(
    changes.changes
)
app.command(name="plan", short_help="What the next sync would send, without sending it.")(plan.plan)
app.command(name="approve", short_help="Let a held plan or failed check through, once.")(
    plan.approve
)
app.command(name="checks", short_help="Run the data-quality checks and show what they hold.")(
    checks.checks
)
app.command(name="sync", short_help="Send the last recorded run to the destinations.")(sync.sync)
app.add_typer(
    segments.app, name="segments", short_help="Segments: list, show one, validate their YAML."
)
app.add_typer(runs.app, name="runs", short_help="Recorded runs: list them, undo the last one.")
app.add_typer(sms.app, name="sms", short_help="SMS: the outbox of texts and their states.")

# The shell's convention for a process ended by SIGINT (128 + 2): schedulers and `make` read it
# as "interrupted", not as a failure of the data.
EXIT_INTERRUPTED = 130


def _print_version(requested: bool) -> None:
    if requested:
        print(f"cohortflow {version('cohortflow')}")
        raise typer.Exit()


@app.callback()
def _options(
    _version: Annotated[
        bool,
        typer.Option(
            "--version",
            callback=_print_version,
            is_eager=True,
            help="Print the version and exit.",
        ),
    ] = False,
) -> None:
    """Warehouse-native lifecycle activation: dbt segments, change detection, ESP syncs.

    Exit status of every command: 0 done, 1 an error (one `error:` line says what to do), 2 a
    safeguard held something back on purpose, 3 a destination refused rows or failed, 130
    interrupted (Ctrl-C).
    """


def main() -> None:
    """Console-script entry point: user-fixable errors print one line, not a traceback.

    Set COHORTFLOW_DEBUG=1 to see the traceback anyway.
    """
    try:
        app()
    except CohortflowError as error:
        if os.environ.get("COHORTFLOW_DEBUG"):
            raise
        print_error(str(error))
        sys.exit(1)
    except (KeyboardInterrupt, SystemExit) as stopped:
        if not _interrupted(stopped):
            raise
        # Every write is one transaction (change detection, each ledger batch), so an interrupt
        # leaves nothing half-written and the next run picks up where this one stopped.
        print_note("interrupted; nothing half-written is kept: run the command again to resume.")
        # Exit handlers still run: multiprocessing's unlinks the semaphores of dbt's adapters,
        # without which its resource tracker warns of "leaked semaphore objects" after we exit.
        atexit._run_exitfuncs()
        sys.stdout.flush()
        sys.stderr.flush()
        # Skip interpreter teardown: dbt's and DuckDB's objects still referenced from the
        # interrupted frames make nanobind print "leaked instances" warnings at exit.
        os._exit(EXIT_INTERRUPTED)


def _interrupted(stopped: BaseException) -> bool:
    """Whether Ctrl-C ended the command.

    Typer catches KeyboardInterrupt itself and exits 130 in silence (`typer.core._main` raises
    `Exit(130)` from it, then `sys.exit`), so the interrupt reaches `main` only as the cause of a
    SystemExit.
    """
    if isinstance(stopped, SystemExit) and stopped.code != EXIT_INTERRUPTED:
        return False
    error: BaseException | None = stopped
    while error is not None:
        if isinstance(error, KeyboardInterrupt):
            return True
        error = error.__cause__ or error.__context__
    return False
