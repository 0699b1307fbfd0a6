"""Settings that are not secrets, from the environment, shared by the Python side and dbt.

dbt receives the same values as vars (`dbt_vars`), so staging and the phone lookup always agree on
where raw data lives and which region reads a local phone number.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from activations.errors import CohortflowError
from activations.quality.report import default_report_dir
from activations.warehouse import Warehouse, check_identifier


@dataclass(frozen=True)
class Settings:
    """Where things are and how to read them.

    Environment: COHORTFLOW_WAREHOUSE (see Warehouse), COHORTFLOW_RAW_SCHEMA (default raw),
    COHORTFLOW_STATE_SCHEMA (default cohortflow_state), COHORTFLOW_PHONE_REGION (ISO-2 region for
    phones with no customer country, default US), COHORTFLOW_REPORT_DIR (where the data-quality
    report of the last evaluation is written; default a folder of the warehouse's own, see
    `default_report_dir`, so two warehouses never overwrite each other's report; None: not
    written).
    """

    warehouse: Warehouse
    raw_schema: str = "raw"
    state_schema: str = "cohortflow_state"
    default_phone_region: str = "US"
    report_dir: Path | None = None

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        environ = os.environ if environ is None else environ
        region = environ.get("COHORTFLOW_PHONE_REGION", "US").strip().upper()
        if len(region) != 2 or not region.isalpha():
            raise CohortflowError(
                "COHORTFLOW_PHONE_REGION must be an ISO-3166 alpha-2 code such as US, "
                f"got {region!r}."
            )
        warehouse = Warehouse.from_env(environ)
        report_dir = environ.get("COHORTFLOW_REPORT_DIR")
        return cls(
            warehouse=warehouse,
            raw_schema=check_identifier(environ.get("COHORTFLOW_RAW_SCHEMA", "raw")),
            state_schema=check_identifier(
                environ.get("COHORTFLOW_STATE_SCHEMA", "cohortflow_state")
            ),
            default_phone_region=region,
            report_dir=Path(report_dir) if report_dir else default_report_dir(warehouse),
        )

    def dbt_vars(self) -> dict[str, str]:
        return {
            "raw_schema": self.raw_schema,
            "state_schema": self.state_schema,
            "default_phone_region": self.default_phone_region,
        }
