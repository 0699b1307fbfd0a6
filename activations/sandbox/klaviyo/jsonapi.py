"""JSON:API plumbing for handlers: call, reply and error types; filter, sort, page and fields."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

from starlette.datastructures import URL

from activations.sandbox.klaviyo.filters import (
    Condition,
    FilterError,
    check_conditions,
    instant,
    parse_filter,
)
from activations.sandbox.openapi import Operation

CONTENT_TYPE = "application/vnd.api+json"

T = TypeVar("T")


class ApiError(Exception):
    """A JSON:API error answer, raised by handlers."""

    def __init__(
        self,
        status: int,
        code: str,
        title: str,
        detail: str,
        *,
        pointer: str | None = None,
        parameter: str | None = None,
        meta: Mapping[str, Any] | None = None,
    ) -> None:
        super().__init__(detail)
        self.status = status
        self.code = code
        self.title = title
        self.detail = detail
        self.pointer = pointer
        self.parameter = parameter
        self.meta = meta


@dataclass(frozen=True)
class Call:
    """What a handler needs from a request that passed auth, limits and validation."""

    operation: Operation
    path_params: Mapping[str, str]
    query: Mapping[str, str]
    body: Any
    base: str
    url: URL


@dataclass(frozen=True)
class Reply:
    """A handler's answer: status and JSON:API document (None for an empty body)."""

    status: int
    document: dict[str, Any] | None = None


def error_object(error: ApiError, error_id: str) -> dict[str, Any]:
    """The JSON:API error object for `error` (one entry of a document's `errors`)."""
    document: dict[str, Any] = {
        "id": error_id,
        "status": error.status,
        "code": error.code,
        "title": error.title,
        "detail": error.detail,
    }
    source = {
        key: value
        for key, value in (("pointer", error.pointer), ("parameter", error.parameter))
        if value is not None
    }
    if source:
        document["source"] = source
    if error.meta:
        document["meta"] = dict(error.meta)
    return document


def filter_conditions(call: Call, implemented: set[str]) -> list[Condition]:
    """The call's `filter` as conditions, checked against the operation's `x-klaviyo-filters`
    and the fields the handler implements (`implemented`)."""
    text = call.query.get("filter")
    if not text:
        return []
    try:
        conditions = parse_filter(text)
        check_conditions(conditions, call.operation.raw.get("x-klaviyo-filters", {}), implemented)
        for condition in conditions:
            if condition.field in ("created", "updated"):
                instant(str(condition.value))
    except FilterError as error:
        raise ApiError(400, "invalid", "Invalid input.", str(error), parameter="filter") from None
    return conditions


def paginate(call: Call, items: Sequence[T]) -> tuple[list[T], dict[str, str]]:
    """Cursor pagination: `page[cursor]` is opaque to clients (it encodes an offset into the
    result, which is stable because the sandbox never deletes lists, profiles or errors)."""
    parameter = call.operation.query_parameters["page[size]"]
    size = int(call.query.get("page[size]", parameter.schema.get("default", 20)))
    offset = _decode_cursor(call.query.get("page[cursor]"))
    page = list(items[offset : offset + size])
    links = {"self": str(call.url)}
    if offset + size < len(items):
        links["next"] = str(
            call.url.include_query_params(**{"page[cursor]": _cursor(offset + size)})
        )
    if offset > 0:
        previous = max(offset - size, 0)
        links["prev"] = (
            str(call.url.include_query_params(**{"page[cursor]": _cursor(previous)}))
            if previous
            else str(call.url.remove_query_params("page[cursor]"))
        )
    return page, links


def _cursor(offset: int) -> str:
    return base64.urlsafe_b64encode(f"offset:{offset}".encode()).decode().rstrip("=")


def _decode_cursor(cursor: str | None) -> int:
    if not cursor:
        return 0
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        prefix, _, number = text.partition(":")
        if prefix == "offset" and number.isdigit():
            return int(number)
    except (binascii.Error, UnicodeDecodeError):
        pass
    raise ApiError(
        400, "invalid", "Invalid input.", "Invalid page cursor.", parameter="page[cursor]"
    )


def sort_by(items: list[T], sort: str | None, implemented: set[str]) -> list[T]:
    """Apply the `sort` parameter: by one attribute, descending when it starts with `-`."""
    if not sort:
        return items
    name = sort.lstrip("-")
    if name not in implemented:
        raise ApiError(
            400,
            "invalid",
            "Invalid input.",
            f"The sandbox does not implement sorting by {name!r}.",
            parameter="sort",
        )
    return sorted(
        items,
        key=lambda item: (getattr(item, name) is None, getattr(item, name) or ""),
        reverse=sort.startswith("-"),
    )


def sparse(document: dict[str, Any], query: Mapping[str, str]) -> dict[str, Any]:
    """Apply `fields[<type>]=a,b` sparse fieldsets to the resources of the document."""
    wanted = {
        key[len("fields[") : -1]: {name.split(".")[0] for name in value.split(",") if name}
        for key, value in query.items()
        if key.startswith("fields[") and key.endswith("]")
    }
    if not wanted:
        return document
    data = document.get("data")
    resources = [*(data if isinstance(data, list) else [data] if data else [])]
    resources.extend(document.get("included", []))
    for resource in resources:
        names = wanted.get(resource.get("type", ""))
        if names is not None and isinstance(resource.get("attributes"), dict):
            resource["attributes"] = {
                key: value for key, value in resource["attributes"].items() if key in names
            }
    return document


def parse_instant(text: str, pointer: str) -> datetime:
    """A date-time from the request body, or a 400 pointing at it."""
    try:
        return instant(text)
    except FilterError:
        raise ApiError(
            400, "invalid", "Invalid input.", "Not an ISO 8601 date-time.", pointer=pointer
        ) from None
