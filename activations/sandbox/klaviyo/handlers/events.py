"""The event operation: bulk_create_events, all-or-nothing, deduplicated on unique_id."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import Any

from activations.sandbox.klaviyo.jsonapi import ApiError, Call, Reply, parse_instant
from activations.sandbox.klaviyo.records import Rejection, attribute_pointer
from activations.sandbox.klaviyo.spec import MAX_EVENT_PROPERTIES, MAX_EVENT_STRING, MAX_EVENTS
from activations.sandbox.klaviyo.state import KlaviyoState

_EARLIEST_EVENT = datetime(1990, 1, 1, tzinfo=UTC)


def bulk_create_events(state: KlaviyoState, call: Call) -> Reply:
    """Validate the whole request first (any problem refuses all of it), then apply."""
    entries = call.body["data"]["attributes"]["events-bulk-create"]["data"]
    total = sum(len(entry["attributes"]["events"]["data"]) for entry in entries)
    if total > MAX_EVENTS:
        raise ApiError(
            400,
            "invalid",
            "Invalid input.",
            f"Accepts up to {MAX_EVENTS:,} events per request, got {total:,}.",
            pointer="/data/attributes/events-bulk-create/data",
        )
    long_string = _long_string(call.body, MAX_EVENT_STRING)
    if long_string is not None:
        raise ApiError(
            400,
            "invalid",
            "Invalid input.",
            "A single string cannot exceed 100KB.",
            pointer=long_string,
        )
    now = state.clock.datetime_at(state.now())
    seen: set[tuple[str, str, str]] = set()
    planned: list[
        tuple[dict[str, Any], list[tuple[str, str | None, dict[str, Any], str, Any]]]
    ] = []
    for i, entry in enumerate(entries):
        where = f"/data/attributes/events-bulk-create/data/{i}/attributes"
        profile = entry["attributes"]["profile"]["data"]
        attributes = profile.get("attributes") or {}
        rejection = state.check_profile(profile.get("id"), attributes)
        if rejection is not None:
            raise ApiError(
                400 if rejection.code == "invalid" else 404,
                rejection.code,
                rejection.title,
                rejection.detail,
                pointer=f"{where}/profile/data{attribute_pointer(rejection.attribute)}",
            )
        key = state.profile_key(profile.get("id"), attributes)
        events = []
        for j, event in enumerate(entry["attributes"]["events"]["data"]):
            event_where = f"{where}/events/data/{j}/attributes"
            values = event["attributes"]
            when = _event_time(values.get("time"), now, f"{event_where}/time")
            if len(values["properties"]) > MAX_EVENT_PROPERTIES:
                raise ApiError(
                    400,
                    "invalid",
                    "Invalid input.",
                    f"An event takes at most {MAX_EVENT_PROPERTIES} properties.",
                    pointer=f"{event_where}/properties",
                )
            metric = values["metric"]["data"]["attributes"]["name"]
            unique_id = values.get("unique_id")
            dedupe = (key, metric, unique_id if unique_id is not None else when)
            if dedupe in seen:
                raise ApiError(
                    400,
                    "invalid",
                    "Invalid input.",
                    "The unique_id is repeated for the same profile and metric in this "
                    "request; no events were processed.",
                    pointer=f"{event_where}/unique_id",
                )
            seen.add(dedupe)
            events.append(
                (metric, unique_id, dict(values["properties"]), when, values.get("value"))
            )
        planned.append((profile, events))
    for profile, events in planned:
        result = state.upsert(
            profile.get("id"),
            profile.get("attributes") or {},
            profile.get("meta"),
            on_conflict="first",
        )
        if isinstance(result, Rejection):  # checked above; cannot happen under the lock
            raise ApiError(400, "invalid", result.title, result.detail)
        for metric, unique_id, properties, when, value in events:
            state.record_event(result[0].id, metric, unique_id, properties, when, value)
    return Reply(202)


def _long_string(node: Any, limit: int, path: str = "") -> str | None:
    """JSON pointer of the first string longer than `limit` bytes, if any."""
    if isinstance(node, str):
        return path or "/" if len(node.encode()) > limit else None
    items: Iterable[tuple[Any, Any]]
    if isinstance(node, dict):
        items = node.items()
    elif isinstance(node, list):
        items = enumerate(node)
    else:
        return None
    for key, value in items:
        found = _long_string(value, limit, f"{path}/{key}")
        if found is not None:
            return found
    return None


def _event_time(value: str | None, now: datetime, pointer: str) -> str:
    """The event's time truncated to the second; the request time when absent. It must be after
    1990 and at most a year ahead (the spec's `time` description)."""
    instant = now if value is None else parse_instant(value, pointer)
    if instant < _EARLIEST_EVENT or instant > now + timedelta(days=365):
        raise ApiError(
            400,
            "invalid",
            "Invalid input.",
            "The time must be after 1990 and at most one year in the future.",
            pointer=pointer,
        )
    return instant.astimezone(UTC).replace(microsecond=0).isoformat()
