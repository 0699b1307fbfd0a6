"""What each segment asks for (its YAML `meta.cohortflow`), read from the dbt manifest.

The manifest is what dbt itself resolved, so YAML anchors, folder-level config and overrides are
already applied; reading it avoids a second YAML parser with its own idea of precedence.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from activations.errors import CohortflowError
from activations.manifest import read_manifest
from activations.quality.config import CheckConfigError, SegmentChecks, segment_checks
from activations.rows import DestinationKey
from activations.segment_schema import Problem, validate_meta

DEFAULT_MAX_EXIT_FRACTION = 0.5


class SegmentConfigError(CohortflowError):
    """Segments' meta.cohortflow are invalid: one line per problem."""

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__("\n".join(str(problem) for problem in problems))
        self.problems = tuple(problems)


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

    def destination(self, name: str) -> DestinationConfig:
        """This segment's settings for destination `name` (KeyError when not routed there)."""
        for target in self.destinations:
            if target.name == name:
                return target
        raise KeyError(f"segment {self.segment} is not routed to {name}")


def routed_to(configs: Mapping[str, SegmentConfig], destination: str) -> dict[str, SegmentConfig]:
    """The segments routed to `destination`, in the order of `configs`."""
    return {
        name: config for name, config in configs.items() if destination in config.destination_names
    }


def routed_blocks(configs: Mapping[str, SegmentConfig], destination: str) -> list[dict[str, Any]]:
    """The `destination` blocks of the segments routed there (what their options name)."""
    return [
        config.destination(destination).options
        for config in routed_to(configs, destination).values()
    ]


def routed_destinations(configs: Mapping[str, SegmentConfig]) -> list[str]:
    """Every destination at least one segment is routed to, sorted."""
    return sorted({name for config in configs.values() for name in config.destination_names})


def require_routed(configs: Mapping[str, SegmentConfig], destination: str) -> None:
    """Refuse a destination asked for by name that no segment is routed to (a typo, mostly).

    Raises:
        CohortflowError: naming the destinations that are routed.
    """
    routed = routed_destinations(configs)
    if destination not in routed:
        raise CohortflowError(
            f"no segment is routed to {destination!r}; routed destinations: "
            f"{', '.join(routed) or 'none'} (docs/segments.md)."
        )


def load_segment_configs(manifest_path: Path) -> dict[str, SegmentConfig]:
    """Every seg_* model's configuration, keyed by segment name.

    Raises:
        SegmentConfigError: every problem of every segment, one line each.
        CohortflowError: the manifest is missing (run `cohortflow run` first).
    """
    manifest = read_manifest(manifest_path)
    if manifest is None:
        raise CohortflowError(
            f"no dbt manifest at {manifest_path}: run `cohortflow run` (it builds the project)."
        )
    configs: dict[str, SegmentConfig] = {}
    problems: list[Problem] = []
    for node in manifest["nodes"].values():
        if node["resource_type"] != "model" or not node["name"].startswith("seg_"):
            continue
        meta = (node.get("config", {}).get("meta") or node.get("meta") or {}).get("cohortflow")
        config, found = _parse(node["name"], meta)
        problems.extend(found)
        if config is not None:
            configs[config.segment] = config
    problems.extend(_template_problems(configs, project_dir_of(manifest_path)))
    if problems:
        raise SegmentConfigError(problems)
    return dict(sorted(configs.items()))


def project_dir_of(manifest_path: Path) -> Path:
    """The dbt project a manifest was parsed from: the nearest folder above it holding
    dbt_project.yml (`cohortflow run` parses into target/, Dagster into target/dagster/), else
    the folder above the manifest's (a manifest copied out on its own)."""
    for folder in manifest_path.resolve().parents:
        if (folder / "dbt_project.yml").is_file():
            return folder
    return manifest_path.parent.parent


def _template_problems(configs: Mapping[str, SegmentConfig], project_dir: Path) -> list[Problem]:
    """A missing SMS template, one reading a trait its segment does not declare, or project SMS
    rules that cannot be used, found when the segments are read: before any run, never as an
    empty string in a customer's phone."""
    from activations.destinations.options import parse_options
    from activations.destinations.sms import NAME, SmsOptions
    from activations.sms.planning import segment_templates
    from activations.sms.project_rules import PROJECT_FILE, project_rules
    from activations.sms.rules import SmsRulesError
    from activations.sms.templates import SmsTemplateError

    problems = []
    if any(NAME in config.destination_names for config in configs.values()):
        try:
            project_rules(project_dir)
        except SmsRulesError as error:
            problems.append(Problem(PROJECT_FILE, "", str(error)))
    for segment, config in configs.items():
        if NAME not in config.destination_names:
            continue
        options = parse_options(SmsOptions, segment, config.destination(NAME).options)
        try:
            segment_templates(project_dir, segment, options, config.traits)
        except SmsTemplateError as error:
            problems.append(Problem(f"seg_{segment}", f"destinations.{NAME}", str(error)))
    return problems


def parse_segment_config(segment: str, meta: dict[str, Any] | None) -> SegmentConfig:
    """One segment's `meta.cohortflow`, validated.

    Raises:
        SegmentConfigError: every problem in it.
    """
    config, problems = _parse(f"seg_{segment}", meta)
    if config is None or problems:
        raise SegmentConfigError(problems)
    return config


def _parse(model: str, meta: Any) -> tuple[SegmentConfig | None, list[Problem]]:
    parsed, problems = validate_meta(model, meta)
    if parsed is None:
        return None, problems
    try:
        checks = segment_checks(model.removeprefix("seg_"), parsed.checks)
    except CheckConfigError as error:
        where = f"segment {model.removeprefix('seg_')}, checks: "
        return None, [Problem(model, "checks", str(error).removeprefix(where))]
    destinations = [
        DestinationConfig(
            name,
            {k: v for k, v in options.items() if k != "max_exit_fraction"},
            options["max_exit_fraction"],
        )
        for name, options in sorted(
            (
                parsed.destinations.model_dump(exclude_none=True) if parsed.destinations else {}
            ).items()
        )
    ]
    config = SegmentConfig(
        segment=model.removeprefix("seg_"),
        key=parsed.key,
        traits=tuple(parsed.traits),
        destinations=tuple(destinations),
        checks=checks,
    )
    return config, []
