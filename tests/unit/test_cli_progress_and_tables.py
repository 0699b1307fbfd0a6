"""What the terminal shows while a run works and after a sync: each step its own progress, and
failure reasons as whole lines under the sync table."""

from __future__ import annotations

import io
from collections import Counter
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from rich.console import Console, RenderableType

from activations.cli.commands import run as run_command
from activations.cli.output import Steps, new_progress, sync_table
from activations.errors import WarehouseError
from activations.instants import FutureAsOfRefused
from activations.pipeline import run_pipeline
from activations.reports import SegmentReport, SyncReport
from activations.settings import Settings
from activations.warehouse import Warehouse

REASON = (
    "Invalid email address: the domain of this address does not accept mail and the profile "
    "was not created (code invalid_email)"
)


def text_of(renderable: RenderableType, width: int = 80) -> str:
    console = Console(file=io.StringIO(), width=width, color_system=None, legacy_windows=False)
    console.print(renderable)
    output = console.file.getvalue()  # type: ignore[attr-defined]
    return str(output)


def shown(steps_progress: Any) -> str:
    """The progress line as a terminal would show it now, without escape codes."""
    return text_of(steps_progress.get_renderable()).strip()


def test_a_step_after_the_build_shows_its_own_name_and_not_the_build_count() -> None:
    progress = new_progress(console=Console(file=io.StringIO()))
    steps = Steps(progress)
    steps.start("building models and tests")
    steps.count(140, 140, "dbt: segment_membership")
    assert "dbt: segment_membership" in shown(progress) and "140/140" in shown(progress)
    for step in ("detecting changes", "checking data quality", "syncing klaviyo"):
        steps.start(step)
        line = shown(progress)
        assert step in line and "140" not in line and "/" not in line
        assert len(line.splitlines()) == 1


def test_run_gives_each_pipeline_step_its_own_progress(monkeypatch: pytest.MonkeyPatch) -> None:
    """The callbacks `cohortflow run` hands run_pipeline, driven in the order a run calls them."""
    progress = new_progress(console=Console(file=io.StringIO()))
    seen: list[str] = []

    def fake_pipeline(_settings: Settings, **kwargs: Any) -> str:
        kwargs["on_step"]("building models and tests")
        for done in (1, 70, 140):
            kwargs["progress"](done, 140, f"model.n{done}")
        seen.append(shown(progress))
        for step in ("detecting changes", "checking data quality", "syncing klaviyo"):
            kwargs["on_step"](step)
            seen.append(shown(progress))
        assert kwargs["allow_future"] is True
        return "result"

    class Wrapped:
        def __enter__(self) -> Steps:
            return Steps(progress)

        def __exit__(self, *_: object) -> None:
            return None

    monkeypatch.setattr("activations.pipeline.run_pipeline", fake_pipeline)
    monkeypatch.setattr(run_command, "steps_progress", lambda enabled: Wrapped())
    settings_ = Settings(warehouse=Warehouse.from_location("w.duckdb"))
    result = run_command._run(settings_, datetime(2030, 1, 1), {}, False, allow_future=True)
    assert result == "result"
    assert "140/140" in seen[0] and "dbt: model.n140" in seen[0]
    assert [line.split()[0] for line in seen[1:]] == ["detecting", "checking", "syncing"]
    assert not any("140" in line for line in seen[1:])


def segment(name: str, reasons: Counter[str]) -> SegmentReport:
    report = SegmentReport("klaviyo", name, "plan-1", added=1200, failed=sum(reasons.values()))
    report.reasons = reasons
    return report


@settings(max_examples=25, deadline=None)
@given(
    st.lists(
        st.dictionaries(
            st.sampled_from([REASON, "phone is not E.164", "rate limited for good"]),
            st.integers(min_value=1, max_value=10_000),
            max_size=3,
        ),
        min_size=1,
        max_size=4,
    )
)
def test_failure_reasons_are_whole_lines_under_a_one_line_per_segment_table(
    reasons_per_segment: list[dict[str, int]],
) -> None:
    report = SyncReport(destination="klaviyo", run_id="r1")
    for n, reasons in enumerate(reasons_per_segment):
        report.segments.append(segment(f"vip_customers_{n}", Counter(reasons)))
    output = text_of(sync_table(report), width=200)
    lines = output.splitlines()
    # Title, header, rule, one row per segment, then one line per reason.
    rows = [line for line in lines if line.startswith("vip_customers_")]
    assert len(rows) == len(reasons_per_segment)
    for n, reasons in enumerate(reasons_per_segment):
        for reason, count in reasons.items():
            assert f"  klaviyo/vip_customers_{n}: {count:,} failed: {reason}" in lines
    assert "reason" not in "".join(lines[:3])  # no reason column in the header


def test_the_sync_table_fits_80_columns_with_a_long_reason() -> None:
    report = SyncReport(destination="klaviyo", run_id="r1")
    report.segments.append(segment("vip_customers", Counter({REASON: 3})))
    report.segments.append(segment("cart_abandoners", Counter()))
    output = text_of(sync_table(report))
    rows = [line for line in output.splitlines() if line.startswith(("vip_", "cart_"))]
    assert len(rows) == 2  # a reason in a column wrapped each row over several lines
    assert "klaviyo/vip_customers: 3 failed: Invalid email address" in output


def test_an_sms_sync_is_shown_as_texts_not_as_list_rows() -> None:
    report = SyncReport(destination="sms", run_id="r1", outbox={"sent": 4, "suppressed": 2})
    texts = segment("winback", Counter())
    texts.events, texts.skipped_events, texts.api_calls = 4, 2, 9
    report.segments.append(texts)
    output = text_of(sync_table(report))
    header, row = (
        [cell.strip() for cell in line.replace("┃", "│").split("│")]
        for line in output.splitlines()
        if line.startswith(("segment", "winback"))
    )
    assert header == ["segment", "status", "texted", "not sent", "failed", "calls"]
    assert row[2:] == ["4", "2", "0", "9"]
    assert "added" not in output


def test_run_pipeline_refuses_a_future_as_of_for_every_caller(tmp_path: Path) -> None:
    path = tmp_path / "w.duckdb"
    settings_ = Settings(warehouse=Warehouse.from_location(str(path)))
    with pytest.raises(FutureAsOfRefused, match="--allow-future"):
        run_pipeline(settings_, as_of=datetime(2999, 1, 1))
    # Allowed, it goes on to the next check (this warehouse was never loaded).
    with pytest.raises(WarehouseError, match="does not exist"):
        run_pipeline(settings_, as_of=datetime(2999, 1, 1), allow_future=True)
    assert not path.exists()


def test_a_plan_and_a_sync_say_when_a_segment_moves_to_another_list(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Renaming a segment's list moves every member: the plan says how many and from where to
    where before anything is sent, and the sync says the move is done."""
    from activations.cli.commands import plan as plan_command
    from activations.cli.commands import sync as sync_command
    from activations.planner import SegmentPlan, SyncPlan
    from activations.runner import SyncOutcome

    out = Console(file=io.StringIO(), width=80, color_system=None)
    err = Console(file=io.StringIO(), width=80, color_system=None)
    monkeypatch.setattr(plan_command, "stdout", out)
    monkeypatch.setattr(sync_command, "stdout", out)
    monkeypatch.setattr("activations.cli.output.stderr", err)
    moving = SegmentPlan(
        destination="klaviyo", segment="vip", key="email", plan_id="plan-1", held=1200, adds=3,
        removes=1, departures=1, updates=0, entered_events=3, exited_events=1, unroutable=0,
        retrying=0, quarantined=0, max_exit_fraction=0.5, approved=False, has_baseline=True,
        target="VIP 2027", moving_from="Lapsed VIPs", moves=1200,
    )  # fmt: skip
    plan_command.print_plan(SyncPlan(run_id="r1", segments=(moving,)))
    moved = SegmentReport("klaviyo", "vip", "plan-1", status="synced")
    moved.moved_from, moved.moved_to = "Lapsed VIPs", "VIP 2027"
    report = SyncReport(destination="klaviyo", run_id="r1")
    report.segments.append(moved)
    sync_command.print_sync_outcome(SyncOutcome(reports=(report,), skipped={}), False)
    planned = " ".join(out.file.getvalue().split())  # type: ignore[attr-defined]
    noted = " ".join(err.file.getvalue().split())  # type: ignore[attr-defined]
    assert "klaviyo/vip: moving 1,200 held from 'Lapsed VIPs' to 'VIP 2027'" in planned
    assert "moved: klaviyo/vip: members removed from 'Lapsed VIPs' and kept at 'VIP 2027'" in noted
