"""What the checks expect, and where each threshold is written.

Raw-table thresholds live where analytics engineers already describe raw data, the dbt sources
(`models/staging/_sources.yml`): dbt's own `loaded_at_field` and `freshness.error_after` for
freshness, and `meta.cohortflow` for the rest. Segment thresholds live in the segment's
`meta.cohortflow.checks`, next to its destinations. Both are read from dbt's manifest, so YAML
precedence is dbt's, as for segment configuration.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

from activations.errors import CohortflowError
from activations.manifest import read_manifest
from activations.raw_contract import RAW_TABLES, RawTable

# Checks a segment can make non-blocking (`blocking: {volume: false}`), by name.
SEGMENT_CHECKS = (
    "payload_null_keys",
    "payload_invalid_keys",
    "payload_duplicate_keys",
    "payload_trait_size",
    "segment_volume",
    "consent_sms",
)
# Checks that only warn unless a segment makes them blocking. `consent_sms`: the SMS sender
# decides consent for every text and skips a member without it, with the reason, so a segment
# of which only some members consented still texts those who did.
WARN_BY_DEFAULT = frozenset({"consent_sms"})
_PERIODS = {"minute": timedelta(minutes=1), "hour": timedelta(hours=1), "day": timedelta(days=1)}


class CheckConfigError(CohortflowError):
    """A check threshold in the dbt project is invalid."""


@dataclass(frozen=True)
class RawTableChecks:
    """The checks of one raw contract table.

    Attributes:
        loaded_at_field: timestamp column whose newest value says how fresh the table is.
        max_age: the newest row must be younger than this at the run's as-of (None: no check).
        min_rows: fewer rows fail, whatever the previous run had (1 for tables a store has).
        max_row_drop: fail when the row count fell by more than this fraction since the last
            accepted count.
        max_fill_drop: fail when a column's filled share (non-null, and non-blank for text)
            fell by more than this fraction of the last accepted share: relative, like
            `max_row_drop`, so a sparse column that empties (4% to 0%) fails as surely as a
            full one. A column always empty by nature has nothing to lose and never fails.
        never_empty: columns that must have at least one filled value whenever the table has
            rows, judged on every load, the first included (no history needed).
        key: the contract key column, checked for duplicate rows when
            `max_duplicate_fraction` is set.
        blocking: whether a failure holds every sync (`blocking: false` only reports it).
    """

    table: str
    loaded_at_field: str | None = None
    max_age: timedelta | None = None
    min_rows: int = 0
    max_row_drop: float = 0.5
    max_fill_drop: float = 0.5
    never_empty: tuple[str, ...] = ()
    key: str | None = None
    max_duplicate_fraction: float | None = None
    blocking: bool = True


@dataclass(frozen=True)
class SegmentChecks:
    """The thresholds of one segment's checks (`meta.cohortflow.checks`)."""

    max_null_key_fraction: float = 0.5
    max_invalid_key_fraction: float = 0.0
    max_duplicate_key_fraction: float = 0.0
    max_change_fraction: float = 0.5
    history_factor: float = 3.0
    history_runs: int = 7
    min_members: int = 20
    blocking: Mapping[str, bool] = field(default_factory=dict)
    expectations: tuple[Mapping[str, Any], ...] = ()

    def is_blocking(self, check: str) -> bool:
        return self.blocking.get(check, check not in WARN_BY_DEFAULT)


def raw_table_checks(manifest_path: Path) -> tuple[RawTableChecks, ...]:
    """The checks of every raw contract table, from the `raw` dbt source in the manifest.

    Raises:
        CheckConfigError: a threshold is out of range (names the table).
    """
    sources: dict[str, Mapping[str, Any]] = {}
    manifest = read_manifest(manifest_path)
    if manifest is not None:
        for node in manifest.get("sources", {}).values():
            if node.get("source_name") == "raw":
                sources[node["name"]] = node
    return tuple(_raw_table(table, sources.get(table.name, {})) for table in RAW_TABLES)


def _raw_table(table: RawTable, node: Mapping[str, Any]) -> RawTableChecks:
    config = node.get("config") or {}
    meta = ((config.get("meta") or node.get("meta") or {}).get("cohortflow")) or {}
    where = f"source raw.{table.name}"
    loaded_at = config.get("loaded_at_field") or node.get("loaded_at_field")
    if loaded_at is not None and loaded_at not in table.column_names:
        raise CheckConfigError(f"{where}: loaded_at_field {loaded_at!r} is not a column.")
    freshness = (config.get("freshness") or node.get("freshness") or {}).get("error_after") or {}
    max_age = _age(where, freshness) if loaded_at else None
    key = next((column.name for column in table.columns if column.key), None)
    duplicates = meta.get("max_duplicate_fraction")
    if duplicates is not None:
        duplicates = fraction(where, "max_duplicate_fraction", duplicates)
    return RawTableChecks(
        table=table.name,
        loaded_at_field=loaded_at if max_age is not None else None,
        max_age=max_age,
        min_rows=_count(where, "min_rows", meta.get("min_rows", 0)),
        max_row_drop=fraction(where, "max_row_drop", meta.get("max_row_drop", 0.5)),
        max_fill_drop=fraction(where, "max_fill_drop", meta.get("max_fill_drop", 0.5)),
        never_empty=_columns(table, where, "never_empty", meta.get("never_empty", ())),
        key=key if duplicates is not None else None,
        max_duplicate_fraction=duplicates,
        blocking=_flag(where, "blocking", meta.get("blocking", True)),
    )


def _columns(table: RawTable, where: str, name: str, value: Any) -> tuple[str, ...]:
    if not isinstance(value, list | tuple) or not all(isinstance(c, str) for c in value):
        raise CheckConfigError(f"{where}: {name} must be a list of column names, got {value!r}.")
    unknown = [column for column in value if column not in table.column_names]
    if unknown:
        raise CheckConfigError(
            f"{where}: {name} names {', '.join(unknown)}, not a column of the contract "
            f"({', '.join(table.column_names)})."
        )
    return tuple(value)


def _age(where: str, error_after: Mapping[str, Any]) -> timedelta | None:
    count, period = error_after.get("count"), error_after.get("period")
    if count is None and period is None:
        return None
    if period not in _PERIODS or not isinstance(count, int) or count <= 0:
        raise CheckConfigError(
            f"{where}: freshness.error_after needs a positive count and a period of "
            f"{', '.join(_PERIODS)}, got {dict(error_after)}."
        )
    return count * _PERIODS[period]


def segment_checks(segment: str, raw: Any) -> SegmentChecks:
    """A segment's `meta.cohortflow.checks`, validated.

    Raises:
        CheckConfigError: an unknown setting or an out-of-range threshold (names the segment).
    """
    if raw is None:
        return SegmentChecks()
    where = f"segment {segment}, checks"
    if not isinstance(raw, Mapping):
        raise CheckConfigError(f"{where}: expected a mapping, got {raw!r}.")
    known = set(SegmentChecks.__dataclass_fields__)
    unknown = sorted(set(raw) - known)
    if unknown:
        raise CheckConfigError(
            f"{where}: unknown setting(s) {', '.join(unknown)}; known: {', '.join(sorted(known))}."
        )
    defaults = SegmentChecks()
    blocking = dict(raw.get("blocking") or {})
    for name, value in blocking.items():
        if name not in SEGMENT_CHECKS or not isinstance(value, bool):
            raise CheckConfigError(
                f"{where}: blocking takes check: true|false for {', '.join(SEGMENT_CHECKS)}, "
                f"got {name}: {value!r}."
            )
    expectations = tuple(raw.get("expectations") or ())
    for expectation in expectations:
        if not (isinstance(expectation, Mapping) and len(expectation) == 1):
            raise CheckConfigError(
                f"{where}: each expectation is one mapping of a Great Expectations name to its "
                f"arguments, e.g. expect_column_values_to_not_be_null: {{column: email}}; got "
                f"{expectation!r}."
            )
    return SegmentChecks(
        max_null_key_fraction=fraction(
            where, "max_null_key_fraction", raw.get("max_null_key_fraction", 0.5)
        ),
        max_invalid_key_fraction=fraction(
            where, "max_invalid_key_fraction", raw.get("max_invalid_key_fraction", 0.0)
        ),
        max_duplicate_key_fraction=fraction(
            where, "max_duplicate_key_fraction", raw.get("max_duplicate_key_fraction", 0.0)
        ),
        max_change_fraction=_positive(
            where, "max_change_fraction", raw.get("max_change_fraction", 0.5)
        ),
        history_factor=_positive(
            where, "history_factor", raw.get("history_factor", defaults.history_factor)
        ),
        history_runs=_count(where, "history_runs", raw.get("history_runs", defaults.history_runs)),
        min_members=_count(where, "min_members", raw.get("min_members", defaults.min_members)),
        blocking=blocking,
        expectations=expectations,
    )


def fraction(where: str, name: str, value: Any) -> float:
    """`value` as a fraction between 0 and 1, or a `CheckConfigError` naming the setting."""
    number = _number(where, name, value)
    if not 0 <= number <= 1:
        raise CheckConfigError(f"{where}: {name} must be between 0 and 1, got {value!r}.")
    return number


def _positive(where: str, name: str, value: Any) -> float:
    number = _number(where, name, value)
    if number <= 0:
        raise CheckConfigError(f"{where}: {name} must be greater than 0, got {value!r}.")
    return number


def _flag(where: str, name: str, value: Any) -> bool:
    if not isinstance(value, bool):
        raise CheckConfigError(f"{where}: {name} must be true or false, got {value!r}.")
    return value


def _count(where: str, name: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise CheckConfigError(f"{where}: {name} must be a whole number >= 0, got {value!r}.")
    return int(value)


def _number(where: str, name: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise CheckConfigError(f"{where}: {name} must be a number, got {value!r}.")
    return float(value)
