"""`cohortflow load`: snapshot-load a folder of Parquet files into the warehouse's raw schema."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from activations.cli.options import JsonOption
from activations.cli.output import print_json, print_note, steps_progress
from activations.raw_contract import RAW_TABLES
from activations.settings import Settings


def load(
    raw_dir: Annotated[
        Path, typer.Option("--raw-dir", help="Folder holding one <table>.parquet per raw table.")
    ],
    json_output: JsonOption = False,
) -> None:
    """Replace every raw table with the folder's files, atomically (all or nothing).

    The schema is COHORTFLOW_RAW_SCHEMA (default raw); the warehouse is COHORTFLOW_WAREHOUSE:
    a DuckDB file path (default ./warehouse.duckdb) or a
    SQLAlchemy URL such as postgresql://user@host:5432/db. The first load creates the DuckDB file
    (its folder must exist); every other command needs a warehouse a load created.
    """
    from activations.loader import load_raw_folder
    from activations.phones import refresh_phone_lookup
    from activations.warehouse import connect

    settings = Settings.from_env()
    warehouse, raw_schema = settings.warehouse, settings.raw_schema
    names = [table.name for table in RAW_TABLES]
    with steps_progress(enabled=not json_output) as steps:
        steps.start("loading", total=len(names))
        report = load_raw_folder(
            warehouse,
            raw_dir,
            raw_schema=raw_schema,
            # Called as each table starts: the count is the tables already loaded.
            progress=lambda table: steps.count(names.index(table), len(names), f"loading {table}"),
        )
        steps.start("normalising phones")
        with connect(warehouse) as connection:
            phones = refresh_phone_lookup(
                connection,
                raw_schema=raw_schema,
                state_schema=settings.state_schema,
                default_region=settings.default_phone_region,
            )
    tables = {
        t.table: {"rows": t.rows, "ignored_columns": list(t.ignored_columns)} for t in report.tables
    }
    if json_output:
        print_json(
            {
                "warehouse": warehouse.describe(),
                "raw_schema": raw_schema,
                "tables": tables,
                "phones_normalised": phones.added,
            }
        )
        return
    print_note(f"loaded {report.rows:,} rows into {raw_schema} of {warehouse.describe()}")
    for table in report.tables:
        ignored = (
            f" (ignored columns: {', '.join(table.ignored_columns)})"
            if table.ignored_columns
            else ""
        )
        print_note(f"  {table.table:<15} {table.rows:>12,}{ignored}")
