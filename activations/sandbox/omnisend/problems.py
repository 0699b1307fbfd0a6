"""Omnisend's error format: RFC 7807 problem documents (`Problem`, `ValidationProblem`,
`RateLimitProblem` in the spec), raised by handlers as `Problem` and rendered in one place."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

PROBLEM_BASE = "https://problems.omnisend.com/"
_TITLES = {
    400: "Bad Request",
    401: "Unauthorized",
    404: "Not Found",
    405: "Method Not Allowed",
    409: "Conflict",
    410: "Gone",
    415: "Unsupported Media Type",
    429: "Too Many Requests",
    500: "Internal Server Error",
    503: "Service Unavailable",
}


@dataclass(frozen=True)
class FieldError:
    """One entry of a ValidationProblem's `errors`: a dot-separated field path, a code, why."""

    field: str
    code: str
    message: str


@dataclass(eq=False)  # compared and hashed by identity, as exceptions are
class Problem(Exception):
    """An error answer. `errors` makes it a ValidationProblem, `retry_after` a RateLimitProblem."""

    status: int
    detail: str
    errors: tuple[FieldError, ...] = field(default=())
    retry_after: int | None = None

    def __post_init__(self) -> None:
        super().__init__(self.detail)

    def document(self, instance: str) -> dict[str, Any]:
        """The problem body; `instance` is the request trace id."""
        title = _TITLES.get(self.status, "Problem")
        body: dict[str, Any] = {
            "type": PROBLEM_BASE + title.lower().replace(" ", "-"),
            "title": title,
            "status": self.status,
            "detail": self.detail,
            "instance": instance,
        }
        if self.errors:
            body["errors"] = [
                {"field": e.field, "code": e.code, "message": e.message} for e in self.errors
            ]
        if self.retry_after is not None:
            body["retryAfter"] = self.retry_after
        return body


def invalid(field_path: str, code: str, message: str) -> Problem:
    """A 400 ValidationProblem about one field."""
    return Problem(400, f"{field_path}: {message}", (FieldError(field_path, code, message),))


def pointer_to_field(pointer: str | None) -> str:
    """A JSON pointer (`/identifiers/0/type`) as Omnisend's dot path (`identifiers.0.type`)."""
    if not pointer or pointer == "/":
        return ""
    return ".".join(part.replace("~1", "/").replace("~0", "~") for part in pointer[1:].split("/"))


def validation_problem(violations: Any, prefix: str = "") -> Problem:
    """The first spec violation as a 400 ValidationProblem naming its field."""
    first = violations[0]
    path = first.parameter or pointer_to_field(first.pointer)
    path = ".".join(part for part in (prefix, path) if part)
    return invalid(path or "body", "invalid", first.message)
