"""The jobs: `refresh` (phone lookup, every dbt model and test, change detection) and `activate`
(refresh, then one sync per destination)."""

from __future__ import annotations

import dagster as dg

from orchestration.activation import activation_assets
from orchestration.changes import membership_changes
from orchestration.dbt import DBT_ASSETS_NAME, cohortflow_dbt_assets
from orchestration.raw import RAW_SPECS, phone_e164

# Run retries need `run_retries: enabled` in dagster.yaml (on by default in recent Dagster). A
# retry starts from the failed step, so a flaky warehouse connection does not rebuild everything.
REFRESH_TAGS = {"dagster/max_retries": "2", "dagster/retry_strategy": "FROM_FAILURE"}
# The ops of `refresh` that compute as of an instant: run config must give them the same one.
AS_OF_OPS = (DBT_ASSETS_NAME, membership_changes.op.name)

# The checks of the raw sources run in every job that reads them: raw assets are external (not
# materialized by Dagster), so their checks are selected explicitly.
RAW_SOURCE_CHECKS = dg.AssetSelection.checks_for_assets(*(spec.key for spec in RAW_SPECS))

refresh_job = dg.define_asset_job(
    name="refresh",
    selection=dg.AssetSelection.assets(phone_e164, cohortflow_dbt_assets, membership_changes)
    | RAW_SOURCE_CHECKS,
    tags=REFRESH_TAGS,
    description=(
        "Normalise new phones, dbt build every model and its tests, then record who entered, "
        "exited or changed in each segment. Without run config every step uses the instant the "
        "run was created; to pin it, give each op in AS_OF_OPS the same `as_of` "
        "(`refresh_run_config`)."
    ),
)


# A sync whose rows failed permanently fails its asset on purpose. A run retry would sync again,
# find those rows quarantined, succeed, and hide the failure: retry activate only for crashes.
ACTIVATE_TAGS = {**REFRESH_TAGS, "dagster/retry_on_asset_or_op_failure": "false"}

activate_job = dg.define_asset_job(
    name="activate",
    selection=dg.AssetSelection.assets(
        phone_e164, cohortflow_dbt_assets, membership_changes, *activation_assets
    )
    | RAW_SOURCE_CHECKS,
    tags=ACTIVATE_TAGS,
    description=(
        "Everything `refresh` does, then sync each destination. Blocking checks hold the syncs "
        "back: the raw sources' checks (before anything runs), the sync payload's checks and "
        "the mass-removal gate on membership_changes. Destinations "
        "need their credentials in the run's environment (docs/destinations/)."
    ),
)


def refresh_run_config(as_of: str) -> dict[str, object]:
    """Run config of `refresh` pinning the dbt build and change detection to one `as_of`.

    Args:
        as_of: an ISO-8601 instant, e.g. 2026-06-30T12:00:00Z.
    """
    return {"ops": {op: {"config": {"as_of": as_of}} for op in AS_OF_OPS}}


def defs() -> dg.Definitions:
    """The jobs."""
    return dg.Definitions(jobs=[refresh_job, activate_job])
