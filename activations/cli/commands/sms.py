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


@app.command("preview")
def preview(
    segment: Annotated[str, typer.Option("--segment", help="The segment whose text to show.")],
    limit: Annotated[int, typer.Option("--limit", min=1, help="How many members to show.")] = 5,
    json_output: JsonOption = False,
) -> None:
    """What the segment's entry text would say to its members if they entered now: the rendered
    text, its encoding and length in SMS segments, when it would go, and who would not get it
    and why (consent, opt-outs, quiet hours, caps), counted over every member. Nothing is
    written or sent. Phones are shown masked.
    """
    from datetime import UTC, datetime

    from activations.destinations.options import parse_options
    from activations.destinations.sms import NAME, SmsOptions
    from activations.migrations import migrate
    from activations.quality.gate import mask
    from activations.segment_config import load_segment_configs, require_routed
    from activations.settings import Settings
    from activations.sms.planning import segment_templates
    from activations.sms.preview import preview as preview_texts
    from activations.sms.project_rules import project_rules
    from activations.transform import DBT_PROJECT_DIR, MANIFEST_PATH
    from activations.warehouse import connect

    configs = load_segment_configs(MANIFEST_PATH)
    if segment not in configs:
        print_error(f"no segment {segment!r}: segments are {', '.join(sorted(configs))}.")
        raise typer.Exit(1)
    config = configs[segment]
    require_routed({segment: config}, NAME)
    options = parse_options(SmsOptions, segment, config.destination(NAME).options)
    templates = segment_templates(DBT_PROJECT_DIR, segment, options, config.traits)
    if "entered" not in templates:
        print_error(f"segment {segment} texts no entries: set `on_enter` in its sms block.")
        raise typer.Exit(1)
    settings = Settings.from_env()
    with connect(settings.warehouse) as connection:
        migrate(connection, settings.state_schema)
        shown, tally = preview_texts(
            connection,
            state_schema=settings.state_schema,
            segment=segment,
            template=templates["entered"],
            rules=options.rules(project_rules(DBT_PROJECT_DIR)),
            now=datetime.now(UTC).replace(tzinfo=None),
            limit=limit,
        )
    if json_output:
        print_json(
            {
                "segment": segment,
                "template": templates["entered"].name,
                "members": [
                    {
                        "person_id": p.person_id,
                        "phone": mask(p.phone),
                        "zones": p.zones,
                        "body": p.body,
                        "encoding": p.length.encoding if p.length else None,
                        "sms_segments": p.length.segments if p.length else None,
                        "outcome": p.outcome,
                        "code": p.code,
                        "detail": p.detail,
                    }
                    for p in shown
                ],
                "outcomes": dict(tally.most_common()),
            }
        )
        return
    if not shown:
        print_note(f"segment {segment} has no members to preview.")
        return
    for p in shown:
        length = p.length
        size = f"{length.encoding}, {length.segments} SMS" if length else "no text"
        when = p.outcome if p.detail is None else f"{p.outcome}: {p.detail}"
        stdout.print(f"[bold]{p.person_id}[/bold] {mask(p.phone) or 'no phone'} ({size}) {when}")
        stdout.print(f"  zones: {p.zones}", highlight=False)
        if p.body is not None:
            stdout.print(f"  {p.body}", highlight=False, markup=False)
    counted = ", ".join(f"{count:,} {outcome}" for outcome, count in tally.most_common())
    print_note(f"{sum(tally.values()):,} members: {counted}")
