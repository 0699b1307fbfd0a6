"""A vendor's OpenAPI 3.0 subset as routes and validators: the sandbox's single source of truth.

Why: a sandbox that hand-copies paths and schemas drifts from the vendor and passes clients the
vendor would reject. Here the routes (method, path template) and every request-body and query
check come from the committed spec subset (`extract_spec.py`), validated with jsonschema.

OpenAPI 3.0 schemas are not quite JSON Schema: `nullable: true` means "or null". They are
converted once (`to_json_schema`) and then validated as draft 4, the dialect OpenAPI 3.0 extends.
Vendor-specific rules (auth, rate limits, batch sizes) stay in the vendor module.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

from jsonschema import Draft4Validator
from jsonschema.exceptions import ValidationError, best_match
from referencing import Registry
from referencing.jsonschema import DRAFT4

from activations.sandbox.extract_spec import PROVENANCE_KEY, operation_key

_SPEC_URI = "urn:cohortflow:sandbox-spec"
_COMBINATORS = ("$ref", "oneOf", "anyOf", "allOf", "not")
_MAX_MESSAGE = 300


class RouteNotFound(Exception):
    """No path in the spec matches the request path."""


class MethodNotAllowed(Exception):
    """The path exists but not with this method."""

    def __init__(self, allowed: Sequence[str]) -> None:
        super().__init__(", ".join(allowed))
        self.allowed = tuple(allowed)


@dataclass(frozen=True)
class Violation:
    """One reason a request breaks the spec: where (a JSON pointer into the body, or a parameter
    name) and what."""

    message: str
    pointer: str | None = None
    parameter: str | None = None


@dataclass(frozen=True)
class Parameter:
    """A query, header or path parameter of an operation."""

    name: str
    location: str
    required: bool
    schema: Mapping[str, Any]


@dataclass(frozen=True)
class Operation:
    """One operation of the spec, with its route and the parts of it the sandbox checks."""

    operation_id: str
    method: str
    path: str
    pattern: re.Pattern[str]
    parameters: tuple[Parameter, ...]
    body_schema: Mapping[str, Any] | None
    body_media_types: tuple[str, ...]
    responses: Mapping[str, Any]
    raw: Mapping[str, Any] = field(repr=False)

    @property
    def query_parameters(self) -> dict[str, Parameter]:
        """The operation's query parameters by name."""
        return {p.name: p for p in self.parameters if p.location == "query"}


@dataclass(frozen=True)
class Match:
    """The operation a request is for, and its path parameters."""

    operation: Operation
    path_params: Mapping[str, str]


def to_json_schema(node: Any) -> Any:
    """Convert an OpenAPI 3.0 schema tree to JSON Schema: `nullable: true` becomes "or null"."""
    if isinstance(node, list):
        return [to_json_schema(item) for item in node]
    if not isinstance(node, dict):
        return node
    converted = {key: to_json_schema(value) for key, value in node.items()}
    if not converted.pop("nullable", False):
        return converted
    kind = converted.get("type")
    if kind is None or any(key in converted for key in _COMBINATORS):
        # `$ref` siblings are ignored by draft 4, and a combinator cannot take `null` inline.
        return {"anyOf": [converted, {"type": "null"}]} if converted else {}
    converted["type"] = [kind, "null"] if isinstance(kind, str) else [*kind, "null"]
    if "enum" in converted:
        converted["enum"] = [*converted["enum"], None]
    return converted


class ApiSpec:
    """A loaded spec subset: route matching and request/response validation.

    Args:
        document: the parsed OpenAPI document (a subset made by `extract_spec`).
    """

    def __init__(self, document: Mapping[str, Any]) -> None:
        self.document = document
        self._converted = to_json_schema({"components": dict(document.get("components", {}))})
        self._registry: Registry[Any] = Registry().with_resource(
            _SPEC_URI, DRAFT4.create_resource(self._converted)
        )
        self._validators: dict[str, Draft4Validator] = {}
        self.operations: dict[str, Operation] = {}
        for path, item in document.get("paths", {}).items():
            shared = item.get("parameters", [])
            for method, raw in item.items():
                key = operation_key(method, path, raw)
                if key is None:
                    continue
                self.operations[key] = self._operation(path, method, raw, shared)

    @classmethod
    def load(cls, path: Path) -> ApiSpec:
        """Read a spec subset from a JSON file."""
        return cls(json.loads(path.read_text(encoding="utf-8")))

    @property
    def revision(self) -> str:
        """The API revision (OpenAPI `info.version`)."""
        return str(self.document.get("info", {}).get("version", ""))

    @property
    def provenance(self) -> Mapping[str, Any]:
        """Where the subset was extracted from (`x-sandbox-provenance`)."""
        return dict(self.document.get(PROVENANCE_KEY, {}))

    @cached_property
    def _routes(self) -> list[tuple[re.Pattern[str], dict[str, Operation]]]:
        by_path: dict[str, dict[str, Operation]] = {}
        for operation in self.operations.values():
            by_path.setdefault(operation.path, {})[operation.method] = operation
        return [(next(iter(ops.values())).pattern, ops) for ops in by_path.values()]

    def match(self, method: str, path: str) -> Match:
        """The operation for `method path`.

        Raises:
            RouteNotFound: no path template matches.
            MethodNotAllowed: a template matches, but not with this method.
        """
        allowed: list[str] = []
        for pattern, operations in self._routes:
            found = pattern.match(path)
            if found is None:
                continue
            operation = operations.get(method.upper())
            if operation is not None:
                return Match(operation, found.groupdict())
            allowed.extend(operations)
        if allowed:
            raise MethodNotAllowed(sorted(set(allowed)))
        raise RouteNotFound(path)

    def validate_body(self, operation: Operation, body: Any) -> list[Violation]:
        """Check a parsed request body against the operation's requestBody schema."""
        if operation.body_schema is None:
            return []
        return self._check(operation.body_schema, body)

    def validate_query(
        self, operation: Operation, query: Sequence[tuple[str, str]]
    ) -> list[Violation]:
        """Check query parameters: known names only, each against its schema (integers with
        bounds, enums, comma-separated arrays for `explode: false`)."""
        known = operation.query_parameters
        violations: list[Violation] = []
        for name, raw in query:
            parameter = known.get(name)
            if parameter is None:
                violations.append(Violation(f"{name!r} is not a valid query parameter", None, name))
                continue
            value = _coerce(raw, parameter.schema)
            for problem in self._check(parameter.schema, value):
                violations.append(Violation(problem.message, None, name))
        for name, parameter in known.items():
            if parameter.required and name not in {key for key, _ in query}:
                violations.append(Violation(f"{name!r} is required", None, name))
        return violations

    def validate_response(self, operation: Operation, status: int, body: Any) -> list[Violation]:
        """Check a response body against the spec (the tests use it to keep the sandbox honest)."""
        response = operation.responses.get(str(status)) or operation.responses.get(
            f"{str(status)[0]}XX"
        )
        if response is None:
            return [Violation(f"status {status} is not documented for {operation.operation_id}")]
        response = self._resolve(response)
        content = response.get("content")
        if not content:
            if body in (None, b"", ""):
                return []
            return [Violation(f"status {status} of {operation.operation_id} has no body")]
        schema = next(iter(content.values())).get("schema", {})
        return self._check(schema, body)

    def component(self, section: str, name: str) -> Mapping[str, Any]:
        """A component of the (unconverted) spec, e.g. ("responses", "ClientError")."""
        return dict(self.document["components"][section][name])

    def _check(self, schema: Mapping[str, Any], instance: Any) -> list[Violation]:
        key = json.dumps(schema, sort_keys=True)
        validator = self._validators.get(key)
        if validator is None:
            validator = Draft4Validator(_rebase(to_json_schema(schema)), registry=self._registry)
            self._validators[key] = validator
        error = best_match(validator.iter_errors(instance))
        if error is None:
            return []
        return [Violation(_message(error), _pointer(error))]

    def _resolve(self, node: Mapping[str, Any]) -> Mapping[str, Any]:
        ref = node.get("$ref")
        if not isinstance(ref, str):
            return node
        _, _, section, name = ref.split("/")
        return dict(self.document["components"][section][name])

    def _operation(
        self, path: str, method: str, raw: Mapping[str, Any], shared: Sequence[Mapping[str, Any]]
    ) -> Operation:
        declared = [self._resolve(p) for p in [*shared, *raw.get("parameters", [])]]
        by_name = {(p["name"], p["in"]): p for p in declared}
        parameters = tuple(
            Parameter(p["name"], p["in"], bool(p.get("required", False)), p.get("schema", {}))
            for p in by_name.values()
        )
        body = self._resolve(raw.get("requestBody", {})).get("content", {})
        schema = next(iter(body.values())).get("schema") if body else None
        return Operation(
            operation_id=str(operation_key(method, path, raw)),
            method=method.upper(),
            path=path,
            pattern=_path_pattern(path),
            parameters=parameters,
            body_schema=schema,
            body_media_types=tuple(body),
            responses=raw.get("responses", {}),
            raw=raw,
        )


def _path_pattern(template: str) -> re.Pattern[str]:
    """`/api/lists/{id}` -> a regex with a named group per parameter; a trailing slash is
    optional (the vendors' own `links` carry one)."""
    parts = re.split(r"\{([^}]+)\}", template.rstrip("/"))
    regex = "".join(
        f"(?P<{part}>[^/]+)" if index % 2 else re.escape(part) for index, part in enumerate(parts)
    )
    return re.compile(f"^{regex}/?$")


def _rebase(schema: Any) -> Any:
    """Point local `#/components/...` references at the registered spec resource."""
    if isinstance(schema, list):
        return [_rebase(item) for item in schema]
    if not isinstance(schema, dict):
        return schema
    rebased = {key: _rebase(value) for key, value in schema.items()}
    ref = rebased.get("$ref")
    if isinstance(ref, str) and ref.startswith("#/"):
        rebased["$ref"] = _SPEC_URI + ref
    return rebased


def _coerce(raw: str, schema: Mapping[str, Any]) -> Any:
    kind = schema.get("type")
    if kind == "integer":
        try:
            return int(raw)
        except ValueError:
            return raw
    if kind == "array":
        return [item for item in raw.split(",") if item] if raw else []
    return raw


def _pointer(error: ValidationError) -> str:
    path = [str(part) for part in error.absolute_path]
    if error.validator == "required" and isinstance(error.instance, dict):
        missing = [name for name in error.validator_value if name not in error.instance]
        if missing:
            path.append(str(missing[0]))
    escaped = (part.replace("~", "~0").replace("/", "~1") for part in path)
    return "/" + "/".join(escaped) if path else "/"


def _message(error: ValidationError) -> str:
    message = str(error.message)
    return message if len(message) <= _MAX_MESSAGE else message[: _MAX_MESSAGE - 1] + "…"
