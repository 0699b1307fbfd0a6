"""How `cohortflow segments show` prints one segment: definition, size, runs, ledger, sample."""

from __future__ import annotations

import json
import textwrap

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from activations.segment_overview import SegmentOverview


def segment_view(view: SegmentOverview) -> RenderableType:
    """The segment as a page of small tables, each readable at 80 columns."""
    config = view.config
    parts: list[RenderableType] = [
        Text.assemble((config.segment, "bold"), f"  key: {config.key}"),
        Text(f"traits: {', '.join(config.traits) or 'none'}"),
    ]
    if config.destinations:
        for target in config.destinations:
            options = ", ".join(f"{k}={json.dumps(v)}" for k, v in sorted(target.options.items()))
            parts.append(
                Text(
                    f"-> {target.name}: {options or 'no options'}; removals held above "
                    f"{target.max_exit_fraction:.0%} of the segment"
                )
            )
    else:
        parts.append(Text("-> no destinations: the segment is computed and tracked, not sent"))
    if not view.built:
        parts.append(Text("not built yet: run `cohortflow run` to build the segments"))
        return Group(*parts)
    parts.append(Text(f"members now: {view.size:,}"))
    sections = [_runs_table(view)]
    if view.destinations:
        sections.append(_synced_table(view))
    if view.sample:
        sections.append(_sample(view))
    for section in sections:
        parts += [Text(""), section]
    return Group(*parts)


def _runs_table(view: SegmentOverview) -> RenderableType:
    if not view.runs:
        return Text("no recorded runs yet")
    table = _table("recorded runs (newest first)")
    for column in ("as_of", "entered", "exited", "updated", "size"):
        table.add_column(column, justify="left" if column == "as_of" else "right")
    for run in view.runs:
        table.add_row(
            f"{run.as_of:%Y-%m-%d %H:%M}",
            f"{run.entered:,}",
            f"{run.exited:,}",
            f"{run.updated:,}",
            f"{run.size:,}",
        )
    return table


def _synced_table(view: SegmentOverview) -> RenderableType:
    table = _table("acknowledged by destinations")
    table.add_column("destination")
    table.add_column("members", justify="right")
    table.add_column("last synced (UTC)")
    for state in view.destinations:
        last = f"{state.last_synced_at:%Y-%m-%d %H:%M}" if state.last_synced_at else "-"
        table.add_row(state.destination, f"{state.synced:,}", last)
    return table


def _sample(view: SegmentOverview) -> RenderableType:
    """Members as two lines each: who (masked), then their traits, wrapped to fit 80 columns."""
    title = f"sample of {len(view.sample)} members (addresses masked)"
    lines: list[RenderableType] = [Text(title, style="italic")]
    for row in view.sample:
        who = "  ".join(
            [str(row["person_id"]), row["email"] or "no email", row["phone"] or "no phone"]
        )
        traits = " · ".join(f"{k}={v}" for k, v in (row["traits"] or {}).items())
        wrapped = textwrap.fill(
            traits or "no traits", width=78, initial_indent="    ", subsequent_indent="    "
        )
        lines += [Text(f"  {who}"), Text(wrapped, style="dim")]
    return Group(*lines)


def _table(title: str) -> Table:
    return Table(title=title, title_justify="left", show_edge=False, pad_edge=False)
