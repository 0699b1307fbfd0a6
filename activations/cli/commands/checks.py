"""`cohortflow checks`: run the data-quality checks alone and say what they would hold back."""

from __future__ import annotations

from typing import Annotated

import typer

from activations.cli.options import JsonOption
from activations.cli.output import (
    checks_table,
    checks_totals,
    print_check_holds,
    print_json,
    print_note,
    stdout,
)

EXIT_HOLDING = 2


def checks(
    all_results: Annotated[
        bool, typer.Option("--all", help="List passed checks too, not only problems.")
    ] = False,
    json_output: JsonOption = False,
) -> None:
    """Check raw data, the sync payload, segment volumes, consent and dbt tests against the
    last recorded run, as every sync does first, record the results and write the report
    (Markdown and HTML) into COHORTFLOW_REPORT_DIR (default: a folder per warehouse,
    cohortflow_reports/<file stem>/ beside a DuckDB file; see docs/data-quality.md).

    Exit status 2 when a failed blocking check would hold a sync back (approve it with
    `cohortflow approve <failure id>` if the data is right).
    """
    from activations.quality.gate import run_checks
    from activations.quality.report import HTML_NAME, MARKDOWN_NAME
    from activations.readiness import require_built
    from activations.segment_config import load_segment_configs
    from activations.settings import Settings
    from activations.transform import MANIFEST_PATH

    settings = Settings.from_env()
    require_built(settings.warehouse)
    report = run_checks(settings, configs=load_segment_configs(MANIFEST_PATH))
    if json_output:
        print_json(report.as_dict())
    else:
        if all_results or report.holding or report.warnings:
            stdout.print(checks_table(report, all_results=all_results))
        stdout.print(checks_totals(report), highlight=False)
        print_check_holds(report)
        if settings.report_dir is not None:
            print_note(f"report: {settings.report_dir / HTML_NAME} (and {MARKDOWN_NAME})")
    if report.holding:
        raise typer.Exit(EXIT_HOLDING)
