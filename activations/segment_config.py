"""What each segment asks for (its YAML `meta.cohortflow`), read from the dbt manifest.

The manifest is what dbt itself resolved, so YAML anchors, folder-level config and overrides are
already applied; reading it avoids a second YAML parser with its own idea of precedence.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from activations.errors import CohortflowError
from activations.quality.config import SegmentChecks, segment_checks

DestinationKey = Literal["email", "phone", "person_id"]
DESTINATION_KEYS: tuple[DestinationKey, ...] = ("email", "phone", "person_id")
KNOWN_DESTINATIONS = ("klaviyo", "omnisend", "sms", "webhook")
DEFAULT_MAX_EXIT_FRACTION = 0.5


class SegmentConfigError(CohortflowError):
    """A segment's meta.cohortflow is invalid."""


@dataclass(frozen=True)
class DestinationConfig:
    """One destination of one segment: its options and the removal guard."""

    name: str
    options: dict[str, Any] = field(default_factory=dict)
    max_exit_fraction: float = DEFAULT_MAX_EXIT_FRACTION

    @property
    def events(self) -> bool:
        """Whether enter/exit events are sent for flows (`events: true`)."""
        return bool(self.options.get("events", False))


@dataclass(frozen=True)
class SegmentConfig:
    """A segment (name without `seg_`) and how it is activated."""

    segment: str
    key: DestinationKey = "email"
    traits: tuple[str, ...] = ()
    destinations: tuple[DestinationConfig, ...] = ()
    checks: SegmentChecks = field(default_factory=SegmentChecks)

    @property
    def destination_names(self) -> tuple[str, ...]:
        return tuple(target.name for target in self.destinations)


def load_segment_configs(manifest_path: Path) -> dict[str, SegmentConfig]:
    """Every seg_* model's configuration, keyed by segment name.

    Raises:
        SegmentConfigError: a key, destination or option is invalid (names the segment).
        CohortflowError: the manifest is missing (run `cohortflow run` first).
    """
    if not manifest_path.is_file():
        raise CohortflowError(
            f"no dbt manifest at {manifest_path}: run `cohortflow run` (it builds the project)."
        )
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    configs = {}
    for node in manifest["nodes"].values():
        if node["resource_type"] != "model" or not node["name"].startswith("seg_"):
            continue
        meta = (node.get("config", {}).get("meta") or node.get("meta") or {}).get("cohortflow", {})
        config = parse_segment_config(node["name"].removeprefix("seg_"), meta)
        configs[config.segment] = config
    return dict(sorted(configs.items()))


def parse_segment_config(segment: str, meta: dict[str, Any]) -> SegmentConfig:
    """One segment's `meta.cohortflow`, validated."""
    key = meta.get("key", "email")
    if key not in DESTINATION_KEYS:
        raise SegmentConfigError(
            f"segment {segment}: key must be one of {', '.join(DESTINATION_KEYS)}, got {key!r}."
        )
    destinations = []
    for name, options in sorted((meta.get("destinations") or {}).items()):
        if name not in KNOWN_DESTINATIONS:
            raise SegmentConfigError(
                f"segment {segment}: unknown destination {name!r}; known: "
                f"{', '.join(KNOWN_DESTINATIONS)}."
            )
        options = dict(options or {})
        fraction = float(options.pop("max_exit_fraction", DEFAULT_MAX_EXIT_FRACTION))
        if not 0 <= fraction <= 1:
            raise SegmentConfigError(
                f"segment {segment}, destination {name}: max_exit_fraction must be between 0 "
                f"and 1, got {fraction}."
            )
        destinations.append(DestinationConfig(name, options, fraction))
    return SegmentConfig(
        segment=segment,
        key=key,
        traits=tuple(meta.get("traits") or ()),
        destinations=tuple(destinations),
        checks=segment_checks(segment, meta.get("checks")),
    )
