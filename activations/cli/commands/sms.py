"""`cohortflow sms`: the SMS outbox, every text cohortflow meant to send and what became of it."""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated, Any

import typer
from rich.table import Table

from activations.cli.options import JsonOption
from activations.cli.output import print_error, print_json, print_note, stdout

app = typer.Typer(help="SMS: the outbox of texts and their states.", no_args_is_help=True)


@app.command("outbox")
def outbox(
    status: Annotated[
        str | None,
        typer.Option("--status", help="Only texts in this state (planned, deferred, sent, ...)."),
    ] = None,
    segment: Annotated[str | None, typer.Option("--segment", help="Only this segment.")] = None,
    limit: Annotated[int, typer.Option("--limit", min=1, help="How many texts to show.")] = 50,
    json_output: JsonOption = False,
) -> None:
    """Every text in the SMS outbox, most recently changed first: its state (planned, deferred,
    sending, sent, delivered, undelivered, failed, suppressed, expired, unknown), why it is in
    it, and Twilio's sid and error code. Phones are shown masked.

    docs/destinations/sms.md says what each state means.
    """
    from activations.migrations import migrate
    from activations.quality.gate import mask
    from activations.settings import Settings
    from activations.sms import outbox as sms_outbox
    from activations.warehouse import connect

    if status is not None and status not in sms_outbox.STATUSES:
        print_error(f"--status {status!r}: states are {', '.join(sms_outbox.STATUSES)}.")
        raise typer.Exit(2)
    settings = Settings.from_env()
    with connect(settings.warehouse) as connection:
        migrate(connection, settings.state_schema)
        shown = sms_outbox.rows(
            connection, settings.state_schema, status=status, segment=segment, limit=limit
        )
        totals = sms_outbox.counts(connection, settings.state_schema)
    if json_output:
        print_json(
            {
                "messages": [_as_json(asdict(row), mask) for row in shown],
                "counts": totals,
            }
        )
        return
    if not totals:
        print_note("the outbox is empty: a segment with an `sms` block texts its next entries.")
        return
    table = Table(box=None, pad_edge=False, header_style="bold")
    for column in ("segment", "person_id", "phone", "status", "updated (UTC)"):
        table.add_column(column, no_wrap=True)
    table.add_column("reason", ratio=1)  # the one column that wraps; sids are in --json
    for row in shown:
        reason = row.reason or ""
        if row.status == "deferred" and row.send_after is not None:
            reason = f"until {row.send_after:%Y-%m-%d %H:%M} UTC: {reason}"
        table.add_row(
            row.segment,
            row.person_id,
            mask(row.phone) or "",
            row.status,
            f"{row.updated_at:%Y-%m-%d %H:%M}",
            reason,
        )
    stdout.print(table)
    summary = ", ".join(
        f"{totals[name]:,} {name}" for name in sms_outbox.STATUSES if name in totals
    )
    print_note(f"outbox: {summary}")


def _as_json(row: dict[str, Any], mask: Any) -> dict[str, Any]:
    row["phone"] = mask(row["phone"])
    return {k: v.isoformat() if hasattr(v, "isoformat") else v for k, v in row.items()}
