"""The `cohortflow` command line: one Typer app, one module per command in commands/."""

from __future__ import annotations

import os
import sys

import typer

from activations.cli.commands import changes, checks, generate, load, plan, run, segments, sync
from activations.cli.output import print_error
from activations.errors import CohortflowError

app = typer.Typer(
    name="cohortflow",
    help="Warehouse-native lifecycle activation: dbt segments, change detection, ESP syncs.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
app.command(name="generate")(generate.generate)
app.command(name="load")(load.load)
app.command(name="run")(run.run)
app.command(name="changes")(changes.changes)
app.command(name="plan")(plan.plan)
app.command(name="approve")(plan.approve)
app.command(name="checks")(checks.checks)
app.command(name="sync")(sync.sync)
app.add_typer(segments.app, name="segments")


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
