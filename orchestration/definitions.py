"""The single Definitions of cohortflow: merges each module's defs(); workspace.yaml loads it."""

from __future__ import annotations

import dagster as dg

from orchestration import (
    activation,
    changes,
    checks,
    dbt,
    jobs,
    raw,
    resources,
    schedules,
    sensors,
)

defs = dg.Definitions.merge(
    resources.defs(),
    raw.defs(),
    dbt.defs(),
    changes.defs(),
    activation.defs(),
    checks.defs(),
    jobs.defs(),
    schedules.defs(),
    sensors.defs(),
)
