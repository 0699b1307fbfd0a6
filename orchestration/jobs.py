"""The refresh job: phone lookup, then every dbt model and test."""

from __future__ import annotations

import dagster as dg

from orchestration.dbt import cohortflow_dbt_assets
from orchestration.raw import phone_e164

# Run retries need `run_retries: enabled` in dagster.yaml (on by default in recent Dagster). A
# retry starts from the failed step, so a flaky warehouse connection does not rebuild everything.
REFRESH_TAGS = {"dagster/max_retries": "2", "dagster/retry_strategy": "FROM_FAILURE"}

refresh_job = dg.define_asset_job(
    name="refresh",
    selection=dg.AssetSelection.assets(phone_e164, cohortflow_dbt_assets),
    tags=REFRESH_TAGS,
    description="Normalise new phones, then dbt build every model and its tests.",
)


def defs() -> dg.Definitions:
    """The jobs."""
    return dg.Definitions(jobs=[refresh_job])
