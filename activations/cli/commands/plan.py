"""`cohortflow plan` and `cohortflow approve`: what the next sync would do, and the gate."""

from __future__ import annotations

import getpass
from collections.abc import Sequence
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from activations.cli.options import JsonOption
from activations.cli.output import print_error, print_json, print_note, stdout

if TYPE_CHECKING:
    from activations.planner import SegmentPlan, SyncPlan


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
    from activations.readiness import require_built
    from activations.segment_config import load_segment_configs, require_routed
    from activations.settings import Settings
    from activations.transform import MANIFEST_PATH
    from activations.warehouse import connect

    settings = Settings.from_env()
    require_built(settings.warehouse)
    configs = load_segment_configs(MANIFEST_PATH)
    if destination is not None:
        require_routed(configs, destination)
    with connect(settings.warehouse) as connection:
        result = build_plan(
            connection,
            state_schema=settings.state_schema,
            configs=configs,
            destination=destination,
            sample_size=sample,
        )
    if json_output:
        print_json({"run_id": result.run_id, "plans": [p.as_dict() for p in result.segments]})
    elif not result.segments:
        print_note(
            "no segment is routed to a destination"
            + (f" named {destination}" if destination else "")
            + ": add `destinations:` to a segment's meta.cohortflow (docs/segments.md)."
        )
    else:
        print_plan(result)
    for blocked in result.blocked:
        if not json_output:
            print_error(blocked.block_reason or "")
    if result.blocked:
        raise typer.Exit(code=2)


def print_plan(result: SyncPlan) -> None:
    """Per destination, a table of counts that fits 80 columns, then what a column would make
    wrap: rows retrying or quarantined, a list or tag being moved, and sample rows with their
    keys masked."""
    stdout.print(f"Sync plan (as of run {result.run_id})", highlight=False)
    destinations = dict.fromkeys(p.destination for p in result.segments)
    for destination in destinations:
        plans = [p for p in result.segments if p.destination == destination]
        stdout.print()
        stdout.print(plan_table(destination, plans))
        for p in plans:
            waiting = [
                f"{count:,} {what}"
                for count, what in (
                    (p.retrying, "retrying after a failure"),
                    (p.quarantined, "quarantined by staging"),
                )
                if count
            ]
            if waiting:
                stdout.print(f"  {destination}/{p.segment}: {', '.join(waiting)}", highlight=False)
            if p.moving_from is not None:
                stdout.print(
                    f"  {destination}/{p.segment}: moving {p.moves:,} held from "
                    f"{p.moving_from!r} to {p.target!r}: removed there first, then every member "
                    "is added to the new one",
                    highlight=False,
                )
        if any(rows for p in plans for rows in p.samples.values()):
            stdout.print()
            stdout.print(sample_table(destination, plans))


def plan_table(destination: str, plans: Sequence[SegmentPlan]) -> Table:
    """One row per segment routed to `destination`. Names never wrap and the headers are the
    counts' own short names, so the table stays whole at 80 columns; plan ids are in the block
    messages and --json."""
    table = Table(title=destination, title_justify="left", box=None, pad_edge=False)
    for column in ("segment", "status"):
        table.add_column(column, no_wrap=True)
    for column in ("held", "adds", "removes", "updates", "entered", "exited"):
        table.add_column(column, justify="right", no_wrap=True)
    for p in plans:
        status = "BLOCKED" if p.blocked else ("approved" if p.approved else "ready")
        counts = (p.held, p.adds, p.removes, p.updates, p.entered_events, p.exited_events)
        table.add_row(p.segment, status, *(f"{n:,}" for n in counts))
    return table


def sample_table(destination: str, plans: Sequence[SegmentPlan]) -> Table:
    """The sampled rows (`--sample` per kind) with the destination key masked as the check
    samples mask it: enough to recognise a row in the warehouse, not an address to copy."""
    from activations.quality.gate import mask

    table = Table(
        title=f"Sample rows for {destination} (keys masked; --json for the full rows)",
        title_justify="left",
        box=None,
        pad_edge=False,
    )
    table.add_column("segment", no_wrap=True)
    table.add_column("row", no_wrap=True)
    table.add_column("key", overflow="fold")
    table.add_column("person_id", no_wrap=True)
    for p in plans:
        for kind, rows in p.samples.items():
            for row in rows:
                table.add_row(p.segment, kind, mask(row["destination_key"]), row["person_id"])
    return table


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
    from activations.readiness import require_built
    from activations.settings import Settings

    settings = Settings.from_env()
    require_built(settings.warehouse)
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
