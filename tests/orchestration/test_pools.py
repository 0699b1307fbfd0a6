"""Every step that opens the warehouse is in one pool, and the shipped dagster.yaml limits it.

DuckDB lets no other process open its file while one writes to it, so under Dagster's default
multiprocess executor two such steps at once fail with "in use by another process".
"""

from __future__ import annotations

from pathlib import Path

import dagster as dg
from dagster._core.instance.ref import InstanceRef

from orchestration.definitions import defs
from orchestration.raw import WAREHOUSE_POOL

REPO_ROOT = Path(__file__).resolve().parents[2]


def test_every_step_that_opens_the_warehouse_claims_the_pool() -> None:
    for job_name in ("refresh", "activate"):
        job = defs.resolve_job_def(job_name)
        for node in job.nodes:
            if "warehouse" in node.definition.required_resource_keys:
                assert node.definition.pool == WAREHOUSE_POOL, f"{job_name}: {node.name}"


def test_a_cli_run_from_the_project_without_dagster_home_gets_a_pool_limit_of_one(
    tmp_path: Path,
) -> None:
    # `dagster job execute` without DAGSTER_HOME stores the run in a temporary folder and reads
    # dagster.yaml from its working directory (dagster._cli.utils._get_temporary_instance).
    ref = InstanceRef.from_dir(str(tmp_path), config_dir=str(REPO_ROOT))
    with dg.DagsterInstance.from_ref(ref) as instance:
        pools = instance.get_concurrency_config().pool_config
    assert pools.default_pool_limit == 1
    assert pools.pool_granularity is not None and pools.pool_granularity.value == "op"
