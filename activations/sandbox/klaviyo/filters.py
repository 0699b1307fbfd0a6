"""Klaviyo's `filter` query parameter: the expression parser, field/operator checks and matching."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any


@dataclass(frozen=True)
class Condition:
    """One `operator(field,value)` term of a filter; `value` is a string, list or literal."""

    operator: str
    field: str
    value: Any


class FilterError(ValueError):
    """The filter parameter cannot be parsed or uses a field/operator it may not."""


_TOKEN = re.compile(
    r"""\s*(?:(?P<punct>[(),\[\]])|(?P<dq>"(?:[^"\\]|\\.)*")|(?P<sq>'(?:[^'\\]|\\.)*')"""
    r"""|(?P<bare>[^\s(),\[\]'"]+))""",
    re.DOTALL,
)


def parse_filter(text: str) -> list[Condition]:
    """Parse Klaviyo's filter syntax: `equals(name,"VIP")`, `equals(name,['VIP'])`,
    `any(email,["a@x.com","b@x.com"])`, `greater-than(created,2024-01-01T00:00:00Z)`, several
    terms joined by commas or `and(...)` (all must hold). Strings take double or single quotes."""
    tokens = _tokenize(text)
    position = 0

    def peek() -> tuple[str, Any]:
        return tokens[position] if position < len(tokens) else ("end", None)

    def take(kind: str, value: Any = None) -> Any:
        nonlocal position
        found_kind, found_value = peek()
        if found_kind != kind or (value is not None and found_value != value):
            raise FilterError(f"unexpected {found_value or 'end'!r} in filter")
        position += 1
        return found_value

    def literal() -> Any:
        kind, value = peek()
        if kind == "punct" and value == "[":
            take("punct", "[")
            items: list[Any] = []
            if peek() != ("punct", "]"):
                items.append(literal())
                while peek() == ("punct", ","):
                    take("punct", ",")
                    items.append(literal())
            take("punct", "]")
            return items
        if kind == "str":
            return take("str")
        word = take("bare")
        return {"true": True, "false": False, "null": None}.get(word, word)

    def term() -> list[Condition]:
        operator = take("bare")
        take("punct", "(")
        if operator == "and":
            conditions = term()
            while peek() == ("punct", ","):
                take("punct", ",")
                conditions.extend(term())
            take("punct", ")")
            return conditions
        if operator in ("or", "not"):
            raise FilterError(f"the sandbox does not implement the {operator}() filter operator")
        name = take("bare")
        take("punct", ",")
        value = literal()
        take("punct", ")")
        return [Condition(operator, name, value)]

    conditions = term()
    while peek() == ("punct", ","):
        take("punct", ",")
        conditions.extend(term())
    if peek()[0] != "end":
        raise FilterError("unexpected text after the filter")
    return conditions


def _tokenize(text: str) -> list[tuple[str, Any]]:
    tokens: list[tuple[str, Any]] = []
    position = 0
    text = text.rstrip()
    while position < len(text):
        found = _TOKEN.match(text, position)
        if found is None:
            raise FilterError("the filter cannot be parsed")
        position = found.end()
        if found.group("punct"):
            tokens.append(("punct", found.group("punct")))
        elif found.group("dq"):
            try:
                tokens.append(("str", json.loads(found.group("dq"))))
            except ValueError as error:
                raise FilterError("a quoted string in the filter is malformed") from error
        elif found.group("sq"):
            tokens.append(("str", re.sub(r"\\(.)", r"\1", found.group("sq")[1:-1])))
        else:
            tokens.append(("bare", found.group("bare")))
    return tokens


def check_conditions(
    conditions: Sequence[Condition], allowed: Mapping[str, Any], implemented: set[str]
) -> None:
    """Refuse fields and operators the operation's `x-klaviyo-filters` (`allowed`) does not
    permit, and fields the sandbox does not implement."""
    for condition in conditions:
        spec = allowed.get(condition.field)
        if spec is None:
            raise FilterError(f"{condition.field!r} is not a valid field for this filter")
        operators = spec.get("operators", {})
        permitted = [*operators.get("list", []), *operators.get("single", [])]
        if condition.operator not in permitted:
            raise FilterError(
                f"{condition.operator!r} is not a valid operator for {condition.field!r}"
            )
        if isinstance(condition.value, list) and condition.operator not in operators.get(
            "list", []
        ):
            raise FilterError(f"{condition.operator}({condition.field}) takes a single value")
        if condition.field not in implemented:
            raise FilterError(f"the sandbox does not implement filtering on {condition.field!r}")


def holds(condition: Condition, actual: Any) -> bool:
    """Whether a record's value satisfies the condition (emails compare case-insensitively)."""
    wanted = condition.value if isinstance(condition.value, list) else [condition.value]
    if condition.operator in ("equals", "any"):
        if condition.field == "email":
            actual = actual.lower() if isinstance(actual, str) else actual
            wanted = [w.lower() if isinstance(w, str) else w for w in wanted]
        return actual in wanted
    if actual is None:
        return False
    left, right = instant(str(actual)), instant(str(wanted[0]))
    return {
        "greater-than": left > right,
        "less-than": left < right,
        "greater-or-equal": left >= right,
        "less-or-equal": left <= right,
    }[condition.operator]


def instant(text: str) -> datetime:
    """An ISO 8601 date-time, taken as UTC when it has no offset."""
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError as error:
        raise FilterError(f"{text!r} is not an ISO 8601 date-time") from error
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
