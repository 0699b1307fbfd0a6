"""Dagster resources wrapping activations objects: the warehouse and its settings."""

from __future__ import annotations

import dataclasses

import dagster as dg
from pydantic import Field

from activations.settings import Settings
from activations.warehouse import Warehouse


class WarehouseResource(dg.ConfigurableResource):  # type: ignore[type-arg]
    """Where the warehouse is, plus the raw/state schemas and phone region dbt and Python share.

    `location` is left unset in the shipped Definitions: the run then reads COHORTFLOW_WAREHOUSE
    (default ./warehouse.duckdb) when it starts, like `cohortflow run`. A PostgreSQL URL can carry a
    password, and an unset field keeps it out of run config and the UI; `EnvVar` cannot be used
    because Dagster fails a run on an unset variable and we want the DuckDB default. Set
    `location` (a path, a URL or `dg.EnvVar(...)`) to pin a warehouse, as the tests do.
    """

    location: str | None = Field(
        default=None,
        description=(
            "DuckDB file path or SQLAlchemy URL. Unset: COHORTFLOW_WAREHOUSE, else "
            "./warehouse.duckdb."
        ),
    )

    def settings(self) -> Settings:
        """The settings for this run, read from the environment when called (never at import).

        Returns:
            COHORTFLOW_* settings, with the warehouse replaced by `location` when it is set.

        Raises:
            CohortflowError: an environment value is malformed (bad region, schema or URL).
        """
        settings = Settings.from_env()
        if not self.location:
            return settings
        return dataclasses.replace(settings, warehouse=Warehouse.from_location(self.location))


def defs() -> dg.Definitions:
    """The warehouse resource under the key assets ask for (`warehouse`)."""
    return dg.Definitions(resources={"warehouse": WarehouseResource()})
