"""`cohortflow plan` and `cohortflow approve`: what the next sync would do, and the gate."""

from __future__ import annotations

import getpass
from collections.abc import Mapping
from dataclasses import replace
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from activations.cli.options import JsonOption
from activations.cli.output import print_error, print_json, print_note, stdout

if TYPE_CHECKING:
    from activations.segment_config import SegmentConfig


def plan(
    destination: Annotated[
        str | None, typer.Option("--destination", help="Only this destination.")
    ] = None,
    sample: Annotated[int, typer.Option("--sample", min=0, help="Sample rows per kind.")] = 5,
    json_output: JsonOption = False,
) -> None:
    """Print, without sending anything, what the next sync would do per destination and segment:
    adds, removes, trait updates and enter/exit events, with counts and a sample of rows.

    Exits with status 2 when a plan is blocked by the mass-removal gate.
    """
    from activations.planner import build_plan
    from activations.segment_config import load_segment_configs
    from activations.settings import Settings
    from activations.transform import MANIFEST_PATH
    from activations.warehouse import connect

    settings = Settings.from_env()
    configs = load_segment_configs(MANIFEST_PATH)
    unimplemented = not_implemented_routes(configs, destination)
    with connect(settings.warehouse) as connection:
        result = build_plan(
            connection,
            state_schema=settings.state_schema,
            configs={name: implemented_only(config) for name, config in configs.items()},
            destination=destination,
            sample_size=sample,
        )
    if json_output:
        print_json(
            {
                "run_id": result.run_id,
                "plans": [p.as_dict() for p in result.segments],
                "not_implemented": [{"destination": d, "segment": s} for d, s in unimplemented],
            }
        )
    elif not result.segments and not unimplemented:
        print_note(
            "no segment is routed to a destination"
            + (f" named {destination}" if destination else "")
            + ": add `destinations:` to a segment's meta.cohortflow (docs/segments.md)."
        )
    else:
        table = Table(
            title=f"Sync plan (as of run {result.run_id})",
            title_justify="left",
            show_edge=False,
            pad_edge=False,
        )
        for column in (
            "plan id",
            "destination",
            "segment",
            "held",
            "adds",
            "removes",
            "updates",
            "entered",
            "exited",
            "retrying",
            "quarantined",
            "status",
        ):
            table.add_column(
                column,
                justify="left"
                if column in ("plan id", "destination", "segment", "status")
                else "right",
            )
        for p in result.segments:
            status = "BLOCKED" if p.blocked else ("approved" if p.approved else "ready")
            table.add_row(
                p.plan_id,
                p.destination,
                p.segment,
                f"{p.held:,}",
                f"{p.adds:,}",
                f"{p.removes:,}",
                f"{p.updates:,}",
                f"{p.entered_events:,}",
                f"{p.exited_events:,}",
                f"{p.retrying:,}",
                f"{p.quarantined:,}",
                status,
            )
        for name, segment in unimplemented:
            table.add_row("-", name, segment, *["-"] * 8, NOT_IMPLEMENTED)
        stdout.print(table)
    for blocked in result.blocked:
        if not json_output:
            print_error(blocked.block_reason or "")
    if result.blocked:
        raise typer.Exit(code=2)


NOT_IMPLEMENTED = "not implemented yet"


def not_implemented_routes(
    configs: Mapping[str, SegmentConfig], destination: str | None
) -> list[tuple[str, str]]:
    """(destination, segment) pairs routed to a destination cohortflow cannot sync yet: `run`
    skips them, so the plan counts nothing for them as ready."""
    from activations.destinations.registry import IMPLEMENTED

    return [
        (target.name, config.segment)
        for config in configs.values()
        for target in config.destinations
        if target.name not in IMPLEMENTED and destination in (None, target.name)
    ]


def implemented_only(config: SegmentConfig) -> SegmentConfig:
    """`config` routed only to the destinations cohortflow can sync."""
    from activations.destinations.registry import IMPLEMENTED

    routed = tuple(t for t in config.destinations if t.name in IMPLEMENTED)
    return replace(config, destinations=routed)


def approve(
    approval_id: Annotated[
        str,
        typer.Argument(
            help="A plan id `cohortflow plan` printed, or a check failure id (chk-...) "
            "`cohortflow checks` printed."
        ),
    ],
) -> None:
    """Approve what a blocking safeguard held back: a plan the mass-removal gate blocked, or a
    failed data-quality check.

    The approval covers exactly that plan or failure: if the next run removes more, or the check
    fails on other data, the id changes and the safeguard asks again.
    """
    from activations.settings import Settings

    settings = Settings.from_env()
    if approval_id.startswith("chk-"):
        from activations.quality.gate import approve_failure

        failure = approve_failure(settings, approval_id, getpass.getuser())
        print_note(
            f"approved {approval_id}: check {failure['check']} on {failure['subject']} no longer "
            "holds syncs for this run."
        )
        return
    from activations.planner import approve as approve_plan
    from activations.segment_config import load_segment_configs
    from activations.transform import MANIFEST_PATH
    from activations.warehouse import connect

    configs = load_segment_configs(MANIFEST_PATH)
    with connect(settings.warehouse) as connection:
        approved = approve_plan(
            connection,
            state_schema=settings.state_schema,
            configs=configs,
            plan_id=approval_id,
            approved_by=getpass.getuser(),
        )
    print_note(
        f"approved {approved.plan_id}: {approved.destination}/{approved.segment} may remove "
        f"{approved.departures:,} of {approved.held:,} members."
    )
