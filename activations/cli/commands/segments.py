"""`cohortflow segments`: inspect and refresh the segment registry dbt unions."""

from __future__ import annotations

from typing import Annotated

import typer

from activations.cli.options import JsonOption
from activations.cli.output import print_error, print_json, print_note

app = typer.Typer(
    help="Segment models: list them, show one, validate their YAML, refresh the registry.",
    no_args_is_help=True,
)


@app.command("list")
def list_segments(json_output: JsonOption = False) -> None:
    """List the seg_* models of the dbt project."""
    from activations.segments import segment_model_names
    from activations.transform import DBT_PROJECT_DIR

    names = segment_model_names(DBT_PROJECT_DIR)
    if json_output:
        print_json({"segments": names})
        return
    for name in names:
        print(name)


@app.command("refresh")
def refresh() -> None:
    """Rewrite dbt_project/macros/segment_registry.sql from the seg_*.sql files.

    `cohortflow run` does this before every build; run it yourself before a plain `dbt build`
    after adding or removing a segment.
    """
    from activations.segments import refresh_segment_registry
    from activations.transform import DBT_PROJECT_DIR

    changed = refresh_segment_registry(DBT_PROJECT_DIR)
    print_note("segment registry updated" if changed else "segment registry already up to date")


@app.command("validate")
def validate(json_output: JsonOption = False) -> None:
    """Check every segment's meta.cohortflow against the schema (docs/segments.md), for CI.

    Parses the dbt project (no warehouse needed, nothing is built). Exit status 1 lists every
    problem of every segment, one line each.
    """
    from activations.instants import utc_now
    from activations.segment_config import SegmentConfigError, load_segment_configs
    from activations.settings import Settings
    from activations.transform import MANIFEST_PATH, parse

    settings = Settings.from_env()
    parse(settings.warehouse, as_of=utc_now(), extra_vars=settings.dbt_vars())
    try:
        configs = load_segment_configs(MANIFEST_PATH)
    except SegmentConfigError as error:
        if json_output:
            problems = [vars(problem) for problem in error.problems]
            print_json({"valid": False, "problems": problems})
        else:
            for problem in error.problems:
                print_error(str(problem))
        raise typer.Exit(code=1) from None
    if json_output:
        print_json({"valid": True, "segments": sorted(configs)})
    else:
        print_note(f"{len(configs)} segments valid")


@app.command("show")
def show(
    segment: Annotated[str, typer.Argument(help="Segment name, e.g. vip (or seg_vip).")],
    limit: Annotated[
        int, typer.Option("--limit", min=0, help="How many members to sample (masked).")
    ] = 5,
    runs: Annotated[int, typer.Option("--runs", min=1, help="How many recent runs to list.")] = 10,
    json_output: JsonOption = False,
) -> None:
    """One segment: its YAML, members now, size over the recorded runs, what each destination
    acknowledged, and a masked sample of members.

    Reads the warehouse the last `cohortflow run` built; nothing is built or recorded.
    """
    from activations.instants import utc_now
    from activations.segment_config import load_segment_configs
    from activations.segment_overview import overview
    from activations.segments import unknown_segment
    from activations.settings import Settings
    from activations.transform import MANIFEST_PATH, parse
    from activations.warehouse import connect

    settings = Settings.from_env()
    parse(settings.warehouse, as_of=utc_now(), extra_vars=settings.dbt_vars())
    configs = load_segment_configs(MANIFEST_PATH)
    name = segment.removeprefix("seg_")
    if name not in configs:
        print_error(unknown_segment(name, sorted(configs)))
        raise typer.Exit(code=1)
    with connect(settings.warehouse) as connection:
        view = overview(
            connection,
            configs[name],
            state_schema=settings.state_schema,
            sample_size=limit,
            run_count=runs,
        )
    if json_output:
        print_json(view.as_dict())
        return
    from activations.cli.output import stdout
    from activations.cli.segment_view import segment_view

    stdout.print(segment_view(view))
