"""The last validation as files a person can open: Markdown for a terminal or a pull request,
HTML for a browser. Written after every evaluation, so they always describe the latest one.

Each warehouse has its own folder by default, so checking a second warehouse never overwrites
the first one's report: beside a DuckDB file (`<dir>/cohortflow_reports/<file stem>/`), or under
`./cohortflow_reports/` named after a PostgreSQL server and database (never its user or
password). The report also names the warehouse it describes."""

from __future__ import annotations

import re
from html import escape
from pathlib import Path

from activations.quality.results import CheckReport, hold_reason
from activations.warehouse import Warehouse

MARKDOWN_NAME = "quality-report.md"
HTML_NAME = "quality-report.html"
REPORTS_FOLDER = "cohortflow_reports"
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def default_report_dir(warehouse: Warehouse) -> Path:
    """Where the reports of `warehouse` go when COHORTFLOW_REPORT_DIR is not set."""
    if warehouse.kind == "duckdb":
        path = warehouse.duckdb_path
        return path.parent / REPORTS_FOLDER / path.stem
    url = warehouse.url
    parts = [url.host or "localhost", str(url.port or 5432), url.database or "postgres"]
    return Path(REPORTS_FOLDER) / _UNSAFE.sub("_", "-".join(["postgres", *parts]))


def write_report(report: CheckReport, folder: Path) -> tuple[Path, Path]:
    """Write the Markdown and HTML reports of `report` into `folder`; their paths."""
    folder.mkdir(parents=True, exist_ok=True)
    markdown, html = folder / MARKDOWN_NAME, folder / HTML_NAME
    markdown.write_text(render_markdown(report), encoding="utf-8")
    html.write_text(render_html(report), encoding="utf-8")
    return markdown, html


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def render_markdown(report: CheckReport) -> str:
    counts = report.counts()
    lines = [
        "# cohortflow data-quality report",
        "",
        f"Checked {report.checked_at:%Y-%m-%d %H:%M:%S} UTC, run `{report.run_id or 'none'}`: "
        f"{counts['passed']} passed, {counts['warned']} warned, {counts['failed']} failed, "
        f"{len(report.holding)} holding syncs back.",
        "",
        f"Warehouse: {report.warehouse or 'not recorded'}.",
        "",
    ]
    if report.holding:
        lines += ["## Holding syncs back", ""]
        lines += [f"- {hold_reason(result)}" for result in report.holding]
        lines.append("")
    lines += [
        "## Every check",
        "",
        "| check | subject | status | finding | samples | failure id |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    lines += [
        f"| {r.check} | {_cell(r.subject)} | {r.label} | {_cell(r.message)} | "
        f"{_cell(r.samples_text)} | {r.failure_id or ''} |"
        for r in report.results
    ]
    lines += ["", "How to read and approve a failure: docs/data-quality.md.", ""]
    return "\n".join(lines)


_COLOURS = {"passed": "#e6f4ea", "warned": "#fef7e0", "failed": "#fce8e6"}


def render_html(report: CheckReport) -> str:
    counts = report.counts()
    rows = "\n".join(
        f'<tr style="background:{_COLOURS[r.status]}"><td>{escape(r.check)}</td>'
        f"<td>{escape(r.subject)}</td><td><b>{escape(r.label)}</b></td>"
        f"<td>{escape(r.message)}</td><td>{escape(r.samples_text)}</td>"
        f"<td><code>{escape(r.failure_id or '')}</code></td></tr>"
        for r in report.results
    )
    holding = "".join(f"<li>{escape(hold_reason(r))}</li>" for r in report.holding)
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>cohortflow data-quality report</title>
<style>body{{font-family:sans-serif;margin:2em}}table{{border-collapse:collapse}}
td,th{{border:1px solid #ccc;padding:4px 8px;text-align:left;vertical-align:top}}</style>
</head><body>
<h1>cohortflow data-quality report</h1>
<p>Checked {report.checked_at:%Y-%m-%d %H:%M:%S} UTC, run <code>{escape(report.run_id or "none")}
</code>: {counts["passed"]} passed, {counts["warned"]} warned, {counts["failed"]} failed,
{len(report.holding)} holding syncs back.</p>
<p>Warehouse: <code>{escape(report.warehouse or "not recorded")}</code>.</p>
{f"<h2>Holding syncs back</h2><ul>{holding}</ul>" if holding else ""}
<h2>Every check</h2>
<table><tr><th>check</th><th>subject</th><th>status</th><th>finding</th><th>samples</th>
<th>failure id</th></tr>
{rows}
</table>
<p>How to read and approve a failure: docs/data-quality.md.</p>
</body></html>
"""
