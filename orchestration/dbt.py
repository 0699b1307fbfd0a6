"""dbt in Dagster: the cached DbtProject, CohortflowTranslator and the `dbt build` assets.

Every dbt model is an asset grouped by its folder (staging, identity, lifecycle, rfm, segments);
every dbt data test is an asset check on the model it tests (dagster-dbt's default), so a failing
test shows on the model that broke and fails the run.
"""

# No `from __future__ import annotations` here: Dagster checks the `context` annotation of an
# asset against the class itself and rejects the string PEP 563 leaves (dagster-io/dagster#26837).

import fcntl
import json
import sys
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from functools import cache
from pathlib import Path
from typing import Any

import dagster as dg
from dagster import AssetExecutionContext
from dagster_dbt import DagsterDbtTranslator, DbtCliResource, DbtProject, dbt_assets
from pydantic import Field

from activations.changes import refuse_backfill
from activations.instants import refuse_future
from activations.segments import refresh_segment_registry
from activations.transform import (
    DBT_PROJECT_DIR,
    build_vars,
    dbt_environment,
    dbt_process_environment,
)
from activations.warehouse import connect
from orchestration.raw import WAREHOUSE_POOL
from orchestration.resources import WarehouseResource
from orchestration.run_instant import run_as_of

DBT_ASSETS_NAME = "cohortflow_dbt_assets"
MODEL_GROUPS = ("staging", "identity", "consent", "lifecycle", "rfm", "segments")
# Dagster parses into its own target folder: `cohortflow run` parses and builds in target/ too,
# and two processes rewriting one manifest.json or partial_parse.msgpack can read half a file.
_TARGET_PATH = Path("target") / "dagster"


def dbt_executable() -> str:
    """The `dbt` installed next to this Python (the project's venv), else `dbt` from PATH.

    dagster-dbt runs the executable; resolving it from the interpreter means `dagster dev` and the
    tests work even when the venv's bin directory is not on PATH.
    """
    beside_python = Path(sys.executable).parent / "dbt"
    return str(beside_python) if beside_python.is_file() else "dbt"


@cache
def dbt_project() -> DbtProject:
    """The dbt project, with a manifest that matches the seg_* models on disk.

    The segment registry is refreshed first because dbt learns segment_membership's parents from
    it while parsing. The manifest is rebuilt under `dagster dev`, when it is missing (a fresh
    clone, `make clean`) and when the registry just changed (a segment was added or removed, so
    any existing manifest is stale); otherwise the existing one is reused, as in a deployment that
    ran `dagster-dbt project prepare-and-package`.
    """
    with _one_preparer():
        registry_changed = refresh_segment_registry(DBT_PROJECT_DIR)
        project = DbtProject(
            project_dir=DBT_PROJECT_DIR, profiles_dir=DBT_PROJECT_DIR, target_path=_TARGET_PATH
        )
        stale = registry_changed or not project.manifest_path.exists()
        if stale or project.preparer.using_dagster_dev():
            # Not `project.preparer.prepare`: it runs a bare `dbt` from PATH, so importing the
            # definitions from a venv that is not on PATH (`.venv/bin/pytest`) would fail.
            DbtCliResource(project_dir=project, dbt_executable=dbt_executable()).cli(
                ["parse", "--quiet"], target_path=project.target_path
            ).wait()
    return project


@contextmanager
def _one_preparer() -> Iterator[None]:
    """Hold an exclusive lock while the registry is refreshed and the manifest parsed. dbt writes
    manifest.json in place, so two processes importing the definitions at once on a fresh clone
    (pytest-xdist workers, a webserver and a daemon) would otherwise have one read the other's
    half-written file; the one that waits then finds the manifest current and reuses it."""
    lock_path = DBT_PROJECT_DIR / _TARGET_PATH / ".prepare.lock"
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    with lock_path.open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


class CohortflowTranslator(DagsterDbtTranslator):
    """dbt node -> Dagster asset: sources keyed like the Python assets, groups = model folders.

    It overrides `get_asset_key` and `get_group_name` rather than only `get_asset_spec`, because
    dagster-dbt still calls `get_asset_key` directly when it maps dbt events and selections, and
    the two paths must agree.
    """

    def get_asset_key(self, dbt_resource_props: Mapping[str, Any]) -> dg.AssetKey:
        """Sources: `<source name>/<table>` (raw/customers, cohortflow_state/phone_e164), the
        keys orchestration/raw.py defines, independent of the configurable schema names.
        Models: dagster-dbt's `<schema>/<model>` (analytics/segment_membership)."""
        if dbt_resource_props["resource_type"] == "source":
            return dg.AssetKey([dbt_resource_props["source_name"], dbt_resource_props["name"]])
        return super().get_asset_key(dbt_resource_props)

    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> str | None:
        """The model's top folder under models/, so Dagster groups match the dbt layout."""
        return _folder_group(dbt_resource_props) or super().get_group_name(dbt_resource_props)


def _folder_group(dbt_resource_props: Mapping[str, Any]) -> str | None:
    fqn = dbt_resource_props.get("fqn") or []
    # fqn is [project, folder, ..., name]: models/segments/intermediate/x.sql -> "segments".
    if len(fqn) > 2 and fqn[1] in MODEL_GROUPS:
        return str(fqn[1])
    return None


class DbtBuildConfig(dg.Config):
    """Run config for the dbt build."""

    as_of: str | None = Field(
        default=None,
        description=(
            "ISO-8601 instant every model is computed as of, e.g. 2026-06-30T12:00:00Z; a time "
            "without an offset is UTC. Unset: when the run was created (its first attempt, for a "
            "retry), the instant change detection of the same run records too."
        ),
    )
    allow_future: bool = Field(
        default=False,
        description=(
            "Accept an `as_of` more than five minutes in the future. Off by default: change "
            "detection only moves forward, so one run recorded in the future blocks every later "
            "one (`cohortflow runs undo` is the way back)."
        ),
    )


@dbt_assets(
    manifest=dbt_project().manifest_path,
    project=dbt_project(),
    dagster_dbt_translator=CohortflowTranslator(),
    name=DBT_ASSETS_NAME,
    pool=WAREHOUSE_POOL,
)
def cohortflow_dbt_assets(
    context: AssetExecutionContext,
    dbt: DbtCliResource,
    warehouse: WarehouseResource,
    config: DbtBuildConfig,
) -> Iterator[Any]:
    """`dbt build` of the selected models and their tests, as of one instant, streamed as events.

    Settings are read here, when the run starts, so a code location loads with no warehouse
    configured and every run sees the current COHORTFLOW_* values.
    """
    settings = warehouse.settings()
    as_of = run_as_of(context.instance, context.run, config.as_of)
    refuse_future(as_of, allow_future=config.allow_future)
    with connect(settings.warehouse) as connection:
        # Before the build: a build as of an instant change detection will refuse would leave
        # the models in the past for the next plan to compare the ledger with.
        refuse_backfill(connection, settings.state_schema, as_of)
    variables = build_vars(as_of, settings.dbt_vars())
    context.log.info(f"dbt build as of {variables['as_of']} UTC on {settings.warehouse.describe()}")
    with dbt_process_environment(dbt_environment(settings.warehouse)):
        invocation = dbt.cli(["build", "--vars", json.dumps(variables)], context=context)
    yield from invocation.stream()


def defs() -> dg.Definitions:
    """The dbt assets (with their checks) and the dbt CLI resource they run with."""
    return dg.Definitions(
        assets=[cohortflow_dbt_assets],
        resources={
            "dbt": DbtCliResource(project_dir=dbt_project(), dbt_executable=dbt_executable())
        },
    )
