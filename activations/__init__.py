"""cohortflow as a library: the same steps the CLI and Dagster run, for a notebook or a script.

    from activations import Settings, run_pipeline, utc_now

    settings = Settings.from_env()           # COHORTFLOW_WAREHOUSE and friends
    result = run_pipeline(settings, as_of=utc_now())
    result.changes.segments["vip"].exited    # who left the VIPs this run

The names below are the public API; everything else is internal and may change. They are
imported on first use (PEP 562), so `import activations` stays cheap and the CLI starts fast.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from activations.changes import RecordedRun, detect_changes, list_changes
    from activations.instants import utc_now
    from activations.loader import load_raw_folder
    from activations.pipeline import RunResult, run_pipeline
    from activations.planner import SyncPlan, build_plan
    from activations.quality.gate import run_checks
    from activations.run_history import recorded_runs, undo_last_run
    from activations.runner import SyncOutcome, sync_all
    from activations.settings import Settings
    from activations.warehouse import Warehouse, connect

# Public name -> the module that defines it.
_EXPORTS = {
    "Settings": "activations.settings",
    "Warehouse": "activations.warehouse",
    "connect": "activations.warehouse",
    "utc_now": "activations.instants",
    "load_raw_folder": "activations.loader",
    "run_pipeline": "activations.pipeline",
    "RunResult": "activations.pipeline",
    "detect_changes": "activations.changes",
    "list_changes": "activations.changes",
    "RecordedRun": "activations.changes",
    "build_plan": "activations.planner",
    "SyncPlan": "activations.planner",
    "run_checks": "activations.quality.gate",
    "sync_all": "activations.runner",
    "SyncOutcome": "activations.runner",
    "recorded_runs": "activations.run_history",
    "undo_last_run": "activations.run_history",
}

__all__ = [
    "RecordedRun",
    "RunResult",
    "Settings",
    "SyncOutcome",
    "SyncPlan",
    "Warehouse",
    "build_plan",
    "connect",
    "detect_changes",
    "list_changes",
    "load_raw_folder",
    "recorded_runs",
    "run_checks",
    "run_pipeline",
    "sync_all",
    "undo_last_run",
    "utc_now",
]


def __getattr__(name: str) -> Any:
    """Import a public name on first access."""
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'activations' has no attribute {name!r}")
    return getattr(import_module(module), name)


def __dir__() -> list[str]:
    return __all__
