"""Dagster runs under the default multiprocess executor, and what their event logs show.

`execute_job` needs the job as a reconstructable target, a module-level function each step's
process can import again: `activate_job` is one. The instance is on disk, because step processes
report their events to it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import dagster as dg

from orchestration.definitions import defs
from orchestration.raw import WAREHOUSE_POOL

REPO_ROOT = Path(__file__).resolve().parents[2]


def activate_job() -> dg.JobDefinition:
    """The `activate` job, whose warehouse steps the multiprocess tests expect in the pool."""
    return defs.resolve_job_def("activate")


def dagster_home(folder: Path) -> Path:
    """A persistent instance home in `folder` whose dagster.yaml is the project's, linked as
    `make dev` links it, so the shipped pool settings apply."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "dagster.yaml").symlink_to(REPO_ROOT / "dagster.yaml")
    return folder


@dataclass(frozen=True)
class StepSpan:
    """When a step started and ended, in the instance's clock."""

    step: str
    started: float
    ended: float


def warehouse_steps(job: dg.JobDefinition) -> set[str]:
    """The steps of `job` that claim the warehouse pool."""
    return {node.name for node in job.nodes if node.definition.pool == WAREHOUSE_POOL}


def step_spans(instance: dg.DagsterInstance, run_id: str) -> dict[str, StepSpan]:
    """Each finished step of the run, from its STEP_START to its STEP_SUCCESS or STEP_FAILURE."""
    started: dict[str, float] = {}
    spans: dict[str, StepSpan] = {}
    ends = {dg.DagsterEventType.STEP_SUCCESS, dg.DagsterEventType.STEP_FAILURE}
    for entry in instance.all_logs(run_id, of_type={dg.DagsterEventType.STEP_START, *ends}):
        event = entry.dagster_event
        if event is None or entry.step_key is None:
            continue
        if event.event_type == dg.DagsterEventType.STEP_START:
            started[entry.step_key] = entry.timestamp
        else:
            spans[entry.step_key] = StepSpan(
                entry.step_key, started[entry.step_key], entry.timestamp
            )
    return spans


def overlapping(spans: list[StepSpan]) -> list[tuple[str, str]]:
    """Pairs of steps that were running at the same time."""
    ordered = sorted(spans, key=lambda span: span.started)
    return [
        (earlier.step, later.step)
        for index, earlier in enumerate(ordered)
        for later in ordered[index + 1 :]
        if later.started < earlier.ended
    ]


def pool_waits(instance: dg.DagsterInstance, run_id: str) -> list[str]:
    """Steps that had to wait for a slot of the warehouse pool."""
    return [
        entry.step_key or ""
        for entry in instance.all_logs(run_id, of_type=dg.DagsterEventType.ENGINE_EVENT)
        if f"blocked by limit for pool {WAREHOUSE_POOL}" in (entry.user_message or "")
    ]


def check_evaluations(instance: dg.DagsterInstance, run_id: str) -> dict[str, bool]:
    """Each asset check the run evaluated, by name: True when it passed or only warned (a
    warning holds nothing back: the shipped SMS segment warns that most cart abandoners never
    gave SMS consent), False when it failed with ERROR."""
    results: dict[str, bool] = {}
    kind = dg.DagsterEventType.ASSET_CHECK_EVALUATION
    for entry in instance.all_logs(run_id, of_type=kind):
        evaluation = entry.dagster_event.event_specific_data if entry.dagster_event else None
        if isinstance(evaluation, dg.AssetCheckEvaluation):
            warned = evaluation.severity == dg.AssetCheckSeverity.WARN
            results[evaluation.check_name] = evaluation.passed or warned
    return results
