"""The schema of a segment's `meta.cohortflow`: types, allowed keys, defaults.

pydantic models with `extra="forbid"` and strict types, so a misspelt key (`destinaton:`) or a
quoted boolean (`events: "no"`) is an error rather than silently ignored or read as true. Every
problem of a segment is collected, each as one line naming the segment, the YAML path and the fix.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, Field, ValidationError, create_model
from pydantic.fields import FieldInfo
from pydantic_core import ErrorDetails

from activations.destinations.options import Name, Strict
from activations.destinations.registry import REGISTRATIONS


def _destinations_model() -> type[Strict]:
    """`destinations:`, one optional block per registered destination."""
    blocks: dict[str, Any] = {
        name: (registration.options | None, None) for name, registration in REGISTRATIONS.items()
    }
    return create_model("Destinations", __base__=Strict, **blocks)


if TYPE_CHECKING:
    Destinations = Strict
else:
    Destinations = _destinations_model()


class SegmentMeta(Strict):
    """A segment's `meta.cohortflow`. `checks` is validated by activations/quality/config.py."""

    key: Literal["email", "phone", "person_id"] = "email"
    traits: list[Name] = Field(default_factory=list)
    destinations: Destinations | None = None
    checks: dict[str, Any] | None = None


@dataclass(frozen=True)
class Problem:
    """One thing wrong in one segment's YAML."""

    segment: str
    path: str
    message: str

    def __str__(self) -> str:
        where = f"{self.path}: " if self.path else ""
        return f"{self.segment}: {where}{self.message}"


def validate_meta(segment: str, meta: Any) -> tuple[SegmentMeta | None, list[Problem]]:
    """`meta` validated, or None and every problem in it (`segment` is the model's name)."""
    try:
        return SegmentMeta.model_validate({} if meta is None else meta), []
    except ValidationError as error:
        return None, [_problem(segment, detail) for detail in error.errors()]


def _problem(segment: str, detail: ErrorDetails) -> Problem:
    loc = [part for part in detail["loc"] if not str(part).startswith(("function-", "lax-"))]
    path = ".".join(str(part) for part in loc if not isinstance(part, int))
    path += "".join(f"[{part}]" for part in loc if isinstance(part, int))
    return Problem(segment, path, _fix(detail, loc))


def _fix(detail: ErrorDetails, loc: list[Any]) -> str:
    kind, value = detail["type"], detail.get("input")
    if kind == "extra_forbidden":
        known = _known_keys(loc[:-1])
        close = difflib.get_close_matches(str(loc[-1]), known, n=1)
        hint = f"did you mean `{close[0]}`?" if close else f"allowed: {', '.join(known)}."
        return f"unknown key; {hint}"
    if kind == "bool_type":
        return f"must be true or false (unquoted), got {value!r}."
    if kind == "literal_error":
        close = difflib.get_close_matches(str(value), ["email", "phone", "person_id"], n=1)
        hint = f" did you mean `{close[0]}`?" if close else ""
        return f"must be one of email, phone, person_id, got {value!r}.{hint}"
    if kind == "missing":
        examples = getattr(_field_at(loc), "examples", None)
        return f'required, e.g. `{loc[-1]}: "{examples[0]}"`.' if examples else "required."
    if kind in ("greater_than_equal", "less_than_equal"):
        return f"must be between 0 and 1, got {value!r}."
    if kind in ("string_too_short", "string_pattern_mismatch"):
        return "must not be empty."
    return f"{detail['msg'].lower()}, got {value!r}."


def _known_keys(loc: list[Any]) -> list[str]:
    model = _model_at(loc)
    return list(model.model_fields) if model is not None else []


def _field_at(loc: list[Any]) -> FieldInfo | None:
    """The schema's field at `loc` (its last part in the model at the parts before it)."""
    model = _model_at(loc[:-1])
    return model.model_fields.get(str(loc[-1])) if model is not None and loc else None


def _model_at(loc: list[Any]) -> type[BaseModel] | None:
    """The nested model at `loc` (SegmentMeta for the top level), or None when it is not one."""
    model: type[BaseModel] = SegmentMeta
    for part in loc:
        field = model.model_fields.get(str(part))
        annotation = field.annotation if field else None
        candidates = [a for a in getattr(annotation, "__args__", (annotation,)) if a]
        nested = [a for a in candidates if isinstance(a, type) and issubclass(a, BaseModel)]
        if not nested:
            return None
        model = nested[0]
    return model
