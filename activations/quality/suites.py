"""The Great Expectations suites cohortflow runs, and how each outcome becomes check results.

Two kinds of asset are validated, each as a GX query asset computed in the warehouse:

- `raw.<table>`: completeness (row count against the last accepted count, folded together with
  each column's filled share as `fill` measured it), freshness (newest `loaded_at_field` against
  the run's as-of) and duplicate keys, with GX's own expectations.
- `sync payload`: what the syncs would send, one row per member and destination with its
  destination key and trait size. Null, invalid and duplicate keys, oversized traits and SMS
  consent are `UnexpectedRowsExpectation`s whose query returns the (segment, destination)
  pairs over their threshold, so one failing segment never holds back another.

A segment's own expectations (`meta.cohortflow.checks.expectations`) run on its `seg_` model.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from activations.destinations.registry import registration
from activations.quality import fill
from activations.quality.config import WARN_BY_DEFAULT, RawTableChecks
from activations.quality.fill import ColumnFill
from activations.quality.results import CheckResult
from activations.segment_config import SegmentConfig
from activations.transform import MODELS_SCHEMA
from activations.warehouse import check_identifier

# The same address pattern as staging's `email_pattern()` macro (quote doubled for SQL).
EMAIL_PATTERN = r"[A-Za-z0-9._%+''-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}"
E164_PATTERN = r"\+[1-9][0-9]{6,14}"
NO_LIMIT = 2**62

Interpret = Callable[[Any], list[CheckResult]]


@dataclass(frozen=True)
class Item:
    """One GX expectation and how its outcome becomes check results."""

    expectation: Any
    interpret: Interpret


@dataclass(frozen=True)
class Suite:
    """Expectations on one query, validated together as one GX batch."""

    name: str
    query: str
    items: tuple[Item, ...]


@dataclass(frozen=True)
class Route:
    """One segment synced to one destination, with the payload thresholds that apply."""

    segment: str
    destination: str
    key: str
    max_null: float
    max_invalid: float
    max_duplicate: float
    blocking: Mapping[str, bool]


# ---------------------------------------------------------------- raw tables


def raw_suite(
    raw_schema: str,
    checks: RawTableChecks,
    *,
    as_of: datetime,
    accepted_rows: int | None,
    columns: Sequence[ColumnFill] = (),
) -> Suite:
    """Completeness (its row count, and each of `columns` as measured), freshness and duplicate
    keys of one raw table."""
    import great_expectations as gx

    subject = f"raw.{checks.table}"
    relation = f"{check_identifier(raw_schema)}.{check_identifier(checks.table)}"
    floor = checks.min_rows
    if accepted_rows is not None:
        # The epsilon keeps a drop of exactly max_row_drop allowed despite float rounding.
        floor = max(floor, math.ceil(accepted_rows * (1 - checks.max_row_drop) - 1e-9))

    def completeness(outcome: Any) -> list[CheckResult]:
        rows = int(outcome.result.get("observed_value") or 0)
        if accepted_rows is None:
            history = "no earlier accepted count"
        else:
            history = (
                f"the last accepted count was {accepted_rows:,} and at most "
                f"{checks.max_row_drop:.0%} may go"
            )
        verdict = "too few" if not outcome.success else "ok"
        message = f"{rows:,} rows ({verdict}: at least {floor:,} needed; {history})."
        if found := fill.summary(columns):
            message = f"{message} {found}"
        success = outcome.success and not any(column.failed for column in columns)
        return [
            _result("raw_completeness", subject, success, message, rows, floor, checks.blocking)
        ]

    items = [Item(gx.expectations.ExpectTableRowCountToBeBetween(min_value=floor), completeness)]
    # Freshness and duplicates are SQL GX runs as `UnexpectedRowsExpectation`s: GX's column
    # expectations first read the query asset's columns by running the whole query, which on a
    # raw events table means every row into Python.
    if checks.loaded_at_field and checks.max_age is not None:
        field = check_identifier(checks.loaded_at_field)
        limit = checks.max_age.total_seconds() / 3600
        stale = (
            f"select max({field}) as newest from {{batch}} having max({field}) is null "
            f"or max({field}) < cast('{as_of - checks.max_age:%Y-%m-%d %H:%M:%S}' as timestamp)"
        )

        def freshness(outcome: Any) -> list[CheckResult]:
            rows = outcome.result.get("details", {}).get("unexpected_rows", [])
            newest = _instant(rows[0]["newest"]) if rows else None
            age = (as_of - newest).total_seconds() / 3600 if newest else None
            if not rows:
                message = (
                    f"newest {field} within {limit:,.0f} h of the run's as-of "
                    f"{as_of:%Y-%m-%d %H:%M}."
                )
            elif newest is None:
                message = f"no {field} at all (the table is empty)."
            else:
                message = (
                    f"newest {field} is {newest:%Y-%m-%d %H:%M}, {age:,.1f} h before the run's "
                    f"as-of {as_of:%Y-%m-%d %H:%M}; at most {limit:,.0f} h allowed."
                )
            return [
                _result(
                    "raw_freshness", subject, outcome.success, message, age, limit, checks.blocking
                )
            ]

        items.append(Item(_unexpected_rows(stale, "raw_freshness"), freshness))
    if checks.key and checks.max_duplicate_fraction is not None:
        key, allowed = check_identifier(checks.key), checks.max_duplicate_fraction
        copied = "case when counts.copies > 1 then counts.copies else 0 end"
        # No JOIN: GX aliases `{batch}` only in queries without one (PostgreSQL needs the alias).
        total = "(select count(*) from {batch})"
        duplicated = f"""
with counts as (
    select count(*) as copies from {{batch}} where {key} is not null group by {key}
)
select sum({copied}) as duplicated, {total} as total
from counts
having sum({copied}) > {allowed!r} * {total}
"""

        def duplicates(outcome: Any) -> list[CheckResult]:
            rows = outcome.result.get("details", {}).get("unexpected_rows", [])
            if rows:
                count, total = int(rows[0]["duplicated"]), int(rows[0]["total"])
                share: float | None = count / total
                message = (
                    f"{count:,} of {total:,} rows ({count / total:.1%}) share their {key} with "
                    f"another row; at most {allowed:.0%} allowed."
                )
            else:
                share = None
                message = (
                    f"at most {allowed:.0%} of rows share their {key} with another row "
                    "(staging keeps one copy of each)."
                )
            return [
                _result(
                    "raw_duplicates",
                    subject,
                    outcome.success,
                    message,
                    share,
                    allowed,
                    checks.blocking,
                )
            ]

        items.append(Item(_unexpected_rows(duplicated, "raw_duplicates"), duplicates))
    return Suite(subject, f"select * from {relation}", tuple(items))


def _unexpected_rows(query: str, description: str) -> Any:
    import great_expectations as gx

    return gx.expectations.UnexpectedRowsExpectation(
        unexpected_rows_query=query, description=description
    )


def _instant(value: Any) -> datetime | None:
    """A timestamp GX returned as a datetime or as ISO text."""
    if value is None or isinstance(value, datetime):
        return value
    return datetime.fromisoformat(str(value))


def _result(
    check: str,
    subject: str,
    success: bool,
    message: str,
    observed: float | None,
    threshold: float | None,
    blocking: bool,
) -> CheckResult:
    """A raw table's result: it holds every sync when it fails (no segment, no destination)."""
    return CheckResult(
        check=check,
        subject=subject,
        status="passed" if success else "failed",
        blocking=blocking,
        message=message,
        observed=observed,
        threshold=threshold,
    )


# ---------------------------------------------------------------- the sync payload


def routes(configs: Mapping[str, SegmentConfig]) -> list[Route]:
    """Every (segment, destination) a sync would send, with its thresholds."""
    return [
        Route(
            segment=config.segment,
            destination=target.name,
            key=config.key,
            max_null=config.checks.max_null_key_fraction,
            max_invalid=config.checks.max_invalid_key_fraction,
            max_duplicate=config.checks.max_duplicate_key_fraction,
            blocking=config.checks.blocking,
        )
        for config in configs.values()
        for target in config.destinations
    ]


def _trait_limit(destination: str) -> int:
    """The largest traits `destination` accepts per profile, in bytes (NO_LIMIT when it has no
    documented limit)."""
    limit = registration(destination).max_trait_bytes
    return NO_LIMIT if limit is None else limit


def payload_query(routed: Sequence[Route], warehouse_kind: str) -> str:
    """One row per member and destination: the destination key, the traits' size in bytes, how
    many members of the pair share the key, and the pair's thresholds."""
    size = "strlen" if warehouse_kind == "duckdb" else "octet_length"  # bytes, not characters
    values = ",\n        ".join(
        f"('{check_identifier(r.segment)}', '{check_identifier(r.destination)}', '{r.key}', "
        f"cast({r.max_null!r} as double precision), cast({r.max_invalid!r} as double precision), "
        f"cast({r.max_duplicate!r} as double precision), "
        f"cast({_trait_limit(r.destination)} as bigint))"
        for r in routed
    )
    key = "case r.key_kind when 'email' then m.email when 'phone' then m.phone else m.person_id end"
    return f"""
select
    m.segment,
    r.destination,
    r.key_kind,
    m.person_id,
    {key} as destination_key,
    m.phone,
    {size}(m.traits) as traits_bytes,
    count(*) over (partition by m.segment, r.destination, {key}) as key_rows,
    r.max_null,
    r.max_invalid,
    r.max_duplicate,
    r.max_traits_bytes
from {MODELS_SCHEMA}.segment_membership as m
inner join (
    values
        {values}
) as r (segment, destination, key_kind, max_null, max_invalid, max_duplicate, max_traits_bytes)
    on r.segment = m.segment
"""


@dataclass(frozen=True)
class PayloadCheck:
    """A payload check: which rows are bad, which threshold column bounds their share, and how
    to say what it found."""

    name: str
    bad: str
    threshold: str
    what: str


def payload_checks(warehouse_kind: str) -> tuple[PayloadCheck, ...]:
    """The payload checks, with SQL for this warehouse (regular expressions differ)."""

    def matches(pattern: str) -> str:
        if warehouse_kind == "duckdb":
            return f"regexp_full_match(p.destination_key, '{pattern}')"
        return f"(p.destination_key ~ '^(?:{pattern})$')"

    valid = (
        f"case p.key_kind when 'email' then {matches(EMAIL_PATTERN)} "
        f"when 'phone' then {matches(E164_PATTERN)} else true end"
    )
    # On the member's phone, whatever the segment's key: it is the number the SMS sender texts.
    sms_consent = (
        f"exists (select 1 from {MODELS_SCHEMA}.contact_consent as c where c.channel = 'sms' "
        "and c.address = p.phone and c.status = 'subscribed')"
    )
    return (
        PayloadCheck(
            "payload_null_keys", "p.destination_key is null", "p.max_null", "have no {key}"
        ),
        PayloadCheck(
            "payload_invalid_keys",
            f"p.destination_key is not null and not ({valid})",
            "p.max_invalid",
            "have an invalid {key}",
        ),
        PayloadCheck(
            "payload_duplicate_keys",
            "p.destination_key is not null and p.key_rows > 1",
            "p.max_duplicate",
            "share their {key} with another member",
        ),
        PayloadCheck(
            "payload_trait_size",
            "p.traits_bytes > p.max_traits_bytes",
            "0",
            "have traits over the destination's size limit",
        ),
        PayloadCheck(
            "consent_sms",
            f"p.destination = 'sms' and not {sms_consent}",
            "0",
            "have no SMS consent (no phone, or a phone without a subscribed SMS consent)",
        ),
    )


def over_threshold_query(check: PayloadCheck) -> str:
    """The (segment, destination) pairs where the share of bad rows passes the threshold.

    GX fills `{batch}` in with `str.format`, so the braces of the check's own SQL (regular
    expression counts such as `{2,}`) are doubled."""
    condition = check.bad.replace("{", "{{").replace("}", "}}")
    bad = f"case when {condition} then 1 else 0 end"
    return f"""
with p as (select * from {{batch}})
select p.segment, p.destination, count(*) as members, sum({bad}) as bad
from p
group by p.segment, p.destination
having sum({bad}) > max({check.threshold}) * count(*) + 0.000001
"""


def sample_query(check: PayloadCheck, payload: str, limit: int = 5) -> str:
    """A few bad rows of one pair (`:segment`, `:destination`), to show a person."""
    return f"""
select p.person_id, p.destination_key, p.traits_bytes
from ({payload}) as p
where p.segment = :segment and p.destination = :destination and {check.bad}
order by p.person_id
limit {limit}
"""


def payload_suite(routed: Sequence[Route], warehouse_kind: str) -> Suite:
    """Every payload check over every routed pair: a pair is failed when the check's query
    returns it, passed otherwise."""
    import great_expectations as gx

    items = []
    for check in payload_checks(warehouse_kind):
        relevant = [r for r in routed if check.name != "consent_sms" or r.destination == "sms"]
        if not relevant:
            continue
        items.append(
            Item(
                gx.expectations.UnexpectedRowsExpectation(
                    unexpected_rows_query=over_threshold_query(check),
                    description=check.name,
                ),
                _pairs(check, relevant),
            )
        )
    return Suite("sync payload", payload_query(routed, warehouse_kind), tuple(items))


def _pairs(check: PayloadCheck, routed: Sequence[Route]) -> Interpret:
    def interpret(outcome: Any) -> list[CheckResult]:
        rows = outcome.result.get("details", {}).get("unexpected_rows", [])
        failing = {(str(row["segment"]), str(row["destination"])): row for row in rows}
        # GX lists at most 200 unexpected rows; its count is exact. A pair it did not list may
        # be one of the others, so with a truncated list every unlisted pair is held too.
        unlisted = int(outcome.result.get("observed_value") or 0) - len(rows)
        results = []
        for route in routed:
            row = failing.get((route.segment, route.destination))
            threshold = _threshold(check, route)
            what = check.what.format(key=route.key)
            observed: float | None = None
            if row is not None:
                bad, members = int(row["bad"]), int(row["members"])
                observed = bad / members if members else None
                message = (
                    f"{bad:,} of {members:,} members ({bad / members:.1%}) {what}; at most "
                    f"{threshold:.0%} allowed."
                )
            elif unlisted > 0:
                message = (
                    f"{len(rows) + unlisted:,} pairs have members that {what}, more than Great "
                    "Expectations lists; this one may be among them and is held until they are "
                    "fixed or approved."
                )
            elif threshold == 0:
                message = f"no member {what}."
            else:
                message = f"within the threshold: at most {threshold:.0%} of members may {what}."
            results.append(
                CheckResult(
                    check=check.name,
                    subject=f"{route.destination}/{route.segment}",
                    status="passed" if row is None and unlisted <= 0 else "failed",
                    blocking=route.blocking.get(check.name, check.name not in WARN_BY_DEFAULT),
                    message=message,
                    observed=observed,
                    threshold=threshold,
                    segment=route.segment,
                    destination=route.destination,
                )
            )
        return results

    return interpret


def _threshold(check: PayloadCheck, route: Route) -> float:
    return {
        "p.max_null": route.max_null,
        "p.max_invalid": route.max_invalid,
        "p.max_duplicate": route.max_duplicate,
    }.get(check.threshold, 0.0)


# ---------------------------------------------------------------- a segment's own expectations


def segment_suite(config: SegmentConfig) -> Suite | None:
    """The expectations a segment declares on its `seg_` model, or None when it has none.

    Raises:
        CheckConfigError: an expectation GX does not know, or arguments it refuses.
    """
    if not config.checks.expectations:
        return None
    from great_expectations.expectations.expectation_configuration import (
        ExpectationConfiguration,
    )

    from activations.quality.config import CheckConfigError

    items = []
    for declared in config.checks.expectations:
        ((name, arguments),) = declared.items()
        try:
            expectation = ExpectationConfiguration(
                type=str(name), kwargs=dict(arguments or {})
            ).to_domain_obj()
        except Exception as error:  # GX raises several unrelated types for a bad declaration
            raise CheckConfigError(
                f"segment {config.segment}, checks.expectations: {name}: {first_line(error)}"
            ) from None
        items.append(Item(expectation, _declared(config, str(name))))
    model = check_identifier(f"seg_{config.segment}")
    return Suite(
        f"segment {config.segment}", f"select * from {MODELS_SCHEMA}.{model}", tuple(items)
    )


def _declared(config: SegmentConfig, name: str) -> Interpret:
    def interpret(outcome: Any) -> list[CheckResult]:
        result = outcome.result
        observed = result.get("unexpected_count", result.get("observed_value"))
        # Only numbers are shown: an observed value can be a customer's address.
        numeric = isinstance(observed, int | float) and not isinstance(observed, bool)
        detail = (
            f"{observed:,} unexpected rows"
            if isinstance(observed, int) and "unexpected_count" in result
            else f"observed {observed:,}"
            if numeric
            else "observed value not shown (it may be personal data)"
        )
        message = f"{name}({_arguments(outcome)}): {detail}."
        return [
            CheckResult(
                check=name,
                subject=f"segment {config.segment}",
                status="passed" if outcome.success else "failed",
                blocking=True,
                message=message,
                observed=float(observed) if isinstance(observed, int | float) else None,
                segment=config.segment,
            )
        ]

    return interpret


def _arguments(outcome: Any) -> str:
    kwargs = outcome.expectation_config.kwargs
    return ", ".join(f"{k}={v!r}" for k, v in kwargs.items() if k not in ("batch_id",))


def first_line(error: BaseException) -> str:
    text = str(error).strip().splitlines()
    return " ".join(line.strip() for line in text[:3]) if text else type(error).__name__
