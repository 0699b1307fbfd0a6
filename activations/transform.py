"""Runs the dbt project (dbt_project/) in-process against the configured warehouse.

dbt is invoked through its programmatic runner: one parse gives the node count for a progress bar
and is reused by the build, and failures come back as data (which model, which test, why) rather
than as log lines to scrape.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from activations.errors import DbtRunError
from activations.segments import refresh_segment_registry
from activations.warehouse import Warehouse

DBT_PROJECT_DIR = Path(__file__).resolve().parent.parent / "dbt_project"
# Written by every `cohortflow run` (dbt parse); segment settings are read from it.
MANIFEST_PATH = DBT_PROJECT_DIR / "target" / "manifest.json"
RUN_RESULTS_PATH = DBT_PROJECT_DIR / "target" / "run_results.json"
MODELS_SCHEMA = "analytics"
_FAILED = {"error", "fail", "runtime error"}

Progress = Callable[[int, int, str], None]


@dataclass(frozen=True)
class NodeOutcome:
    """One dbt node's result: a model, test, unit test or seed."""

    name: str
    resource_type: str
    status: str
    message: str | None


@dataclass(frozen=True)
class BuildReport:
    """The outcome of a successful `dbt build`."""

    nodes: tuple[NodeOutcome, ...]

    def count(self, resource_type: str) -> int:
        return sum(1 for node in self.nodes if node.resource_type == resource_type)


def dbt_environment(warehouse: Warehouse) -> dict[str, str]:
    """Everything dbt needs in its environment to reach `warehouse` (profiles.yml reads it)."""
    return {"DBT_SEND_ANONYMOUS_USAGE_STATS": "false", **warehouse.dbt_env()}


def format_as_of(as_of: datetime) -> str:
    """The dbt `as_of` var: UTC, second precision, 'YYYY-MM-DD HH:MM:SS'."""
    return as_of.strftime("%Y-%m-%d %H:%M:%S")


def build_vars(as_of: datetime, extra_vars: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The `--vars` of a build: `extra_vars` (schemas, region, thresholds) plus `as_of`."""
    return {**(extra_vars or {}), "as_of": format_as_of(as_of)}


def build(
    warehouse: Warehouse,
    *,
    as_of: datetime,
    extra_vars: Mapping[str, Any] | None = None,
    select: str | None = None,
    project_dir: Path = DBT_PROJECT_DIR,
    progress: Progress | None = None,
    manifest: Any | None = None,
) -> BuildReport:
    """`dbt build` (models, their tests and unit tests) as of `as_of`.

    `manifest` is what `parse` returned for the same `as_of` and vars; without it the project is
    parsed first.

    Raises:
        DbtRunError: listing every failed model and test.
    """
    from dbt.artifacts.schemas.run import RunExecutionResult
    from dbt.cli.main import dbtRunner

    if manifest is None:
        manifest = parse(warehouse, as_of=as_of, extra_vars=extra_vars, project_dir=project_dir)
    variables = build_vars(as_of, extra_vars)
    # A subset build must not run tests that also touch unselected models (dbt's default
    # "eager" indirect selection would test segment_membership without building it).
    selection = ["--select", select, "--indirect-selection", "cautious"] if select else []
    common = _common_arguments(project_dir)
    with dbt_process_environment(dbt_environment(warehouse)):
        total = _buildable_nodes(manifest, select)
        done = 0

        def on_event(event: Any) -> None:
            nonlocal done
            if progress and event.info.name == "NodeFinished":
                done += 1
                progress(done, total, event.data.node_info.node_name)

        runner = dbtRunner(manifest=manifest, callbacks=[on_event])
        try:
            result = runner.invoke(["build", *common, "--vars", json.dumps(variables), *selection])
        finally:
            _release_duckdb()
    _reraise_interrupt(result.exception)
    run = result.result
    if result.exception is not None or not isinstance(run, RunExecutionResult):
        raise DbtRunError(f"dbt build could not run: {_first_line(result.exception)}")
    nodes = tuple(_outcome(item) for item in run.results)
    failed = [node for node in nodes if node.status in _FAILED]
    if failed or not result.success:
        raise DbtRunError(_failure_message(failed, len(nodes)))
    return BuildReport(nodes=nodes)


def _buildable_nodes(manifest: Any, select: str | None) -> int:
    kinds = {"model", "test", "unit_test", "seed", "snapshot"}
    nodes = [node for node in manifest.nodes.values() if node.resource_type in kinds]
    unit_tests = getattr(manifest, "unit_tests", {})
    return len(nodes) + len(unit_tests) if select is None else 0


def _outcome(item: Any) -> NodeOutcome:
    return NodeOutcome(
        name=item.node.name,
        resource_type=str(item.node.resource_type),
        status=str(item.status),
        message=item.message,
    )


def _failure_message(failed: list[NodeOutcome], total: int) -> str:
    if not failed:
        return "dbt build failed without naming a node; see dbt_project/logs/dbt.log."
    shown = "; ".join(f"{node.resource_type} {node.name}: {node.message}" for node in failed[:5])
    more = f" (and {len(failed) - 5} more)" if len(failed) > 5 else ""
    return f"dbt build failed on {len(failed)} of {total} nodes: {shown}{more}"


def _reraise_interrupt(error: BaseException | None) -> None:
    """dbt's runner returns Ctrl-C as a result like any failure; raise it again, so an
    interrupted build reads as interrupted, not as a model error."""
    if isinstance(error, KeyboardInterrupt):
        raise KeyboardInterrupt from error


def _first_line(error: BaseException | None) -> str:
    if error is None:
        return "unknown error"
    text = str(error).strip().splitlines()
    return text[0] if text else type(error).__name__


def _release_duckdb() -> None:
    """Close the DuckDB database dbt-duckdb keeps open for reuse after an in-process run.

    DuckDB refuses a second connection to an open file with a different configuration, so without
    this the summary query after `dbt build` (and any later run in this process) cannot connect.
    """
    try:
        from dbt.adapters.duckdb.connections import DuckDBConnectionManager
    except ImportError:
        return
    with DuckDBConnectionManager._LOCK:
        environment = DuckDBConnectionManager._ENV
        if environment is not None:
            environment.close()
            DuckDBConnectionManager._ENV = None


@contextmanager
def dbt_process_environment(values: Mapping[str, str]) -> Iterator[None]:
    """Set `values` in os.environ for the block, then restore what was there.

    dbt's profiles.yml reads the warehouse through env_var(), both in-process (the CLI) and in the
    `dbt` subprocess dagster-dbt starts (which inherits os.environ); neither takes an env argument.
    Restoring afterwards keeps one run's warehouse from leaking into the next in the same process.
    """
    saved = {key: os.environ.get(key) for key in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def parse(
    warehouse: Warehouse,
    *,
    as_of: datetime,
    extra_vars: Mapping[str, Any] | None = None,
    project_dir: Path = DBT_PROJECT_DIR,
) -> Any:
    """`dbt parse` (no query runs): writes the manifest segment configuration is read from, so it
    can be validated before anything is built or recorded, and returns it for `build` to reuse.

    Raises:
        DbtRunError: the project does not parse.
    """
    from dbt.cli.main import dbtRunner
    from dbt.contracts.graph.manifest import Manifest

    refresh_segment_registry(project_dir)
    variables = json.dumps(build_vars(as_of, extra_vars))
    with dbt_process_environment(dbt_environment(warehouse)):
        parsed = dbtRunner().invoke(["parse", *_common_arguments(project_dir), "--vars", variables])
    _reraise_interrupt(parsed.exception)
    if not parsed.success or not isinstance(parsed.result, Manifest):
        raise DbtRunError(f"dbt could not parse the project: {_first_line(parsed.exception)}")
    return parsed.result


def _common_arguments(project_dir: Path) -> list[str]:
    """The project, its profiles, and dbt's logs to the file only (the CLI draws its own)."""
    return [
        "--project-dir",
        str(project_dir),
        "--profiles-dir",
        str(project_dir),
        "--log-level",
        "none",
        "--log-level-file",
        "info",
    ]
