"""The numbers a run prints: persons per lifecycle stage and RFM tier, members per segment, and
what staging quarantined. Read from the models, so they are what dbt built, not a recount."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.engine import Connection

from activations.queries import statement
from activations.segments import segment_model_names
from activations.transform import DBT_PROJECT_DIR, MODELS_SCHEMA

STAGE_ORDER = ("visitor", "prospect", "new", "repeat", "vip", "lapsed", "churned")
TIER_ORDER = (
    "champions",
    "loyal",
    "recent",
    "needs_nurturing",
    "cant_lose",
    "at_risk",
    "about_to_lose",
    "hibernating",
    "lost",
)
STAGING_SCHEMA = "staging"


@dataclass(frozen=True)
class RunSummary:
    """Counts describing the warehouse after a build."""

    stages: dict[str, int]
    tiers: dict[str, int]
    segments: dict[str, int]
    quarantined: dict[str, int]

    @property
    def persons(self) -> int:
        return sum(self.stages.values())

    def as_dict(self) -> dict[str, object]:
        return {
            "persons": self.persons,
            "lifecycle_stages": self.stages,
            "rfm_tiers": self.tiers,
            "segments": self.segments,
            "quarantined": self.quarantined,
        }


def summarise(connection: Connection) -> RunSummary:
    """Read the run's counts from the built models."""

    def counts(name: str) -> dict[str, int]:
        query = statement(
            connection, name, models_schema=MODELS_SCHEMA, staging_schema=STAGING_SCHEMA
        )
        return {str(label): int(str(n)) for label, n in connection.execute(query)}

    stages = counts("select_stage_counts")
    members = counts("select_segment_counts")
    segment_names = sorted(
        {name.removeprefix("seg_") for name in segment_model_names(DBT_PROJECT_DIR)} | set(members)
    )
    tiers = counts("select_tier_counts")
    return RunSummary(
        stages={stage: stages.get(stage, 0) for stage in STAGE_ORDER},
        tiers={tier: tiers.get(tier, 0) for tier in TIER_ORDER},
        segments={name: members.get(name, 0) for name in segment_names},
        quarantined=dict(sorted(counts("select_quarantine_counts").items(), key=lambda kv: -kv[1])),
    )
