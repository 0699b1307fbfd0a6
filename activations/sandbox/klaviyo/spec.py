"""The slice of Klaviyo's spec the sandbox serves: operations, subset file, batch and rate limits.

Rate limits are read from each operation's `x-klaviyo-ratelimit`; batch limits the spec states
only in prose, so they are constants here, each backed by a quoted sentence in `BATCH_LIMITS`.
"""

from __future__ import annotations

from pathlib import Path

from activations.sandbox.limits import Limit, parse_limit
from activations.sandbox.openapi import Operation

SPEC_PATH = Path(__file__).parent.parent / "specs" / "klaviyo-2026-07-15.json"

OPERATIONS: tuple[str, ...] = (
    "get_lists",
    "create_list",
    "add_profiles_to_list",
    "remove_profiles_from_list",
    "bulk_import_profiles",
    "get_bulk_import_profiles_job",
    "get_errors_for_bulk_import_profiles_job",
    "get_profiles_for_bulk_import_profiles_job",
    "get_profiles",
    "create_or_update_profile",
    "bulk_create_events",
    "bulk_subscribe_profiles",
    "bulk_unsubscribe_profiles",
)

KB = 1024
MB = 1024 * KB
MAX_LIST_PROFILES = 1000
MAX_IMPORT_PROFILES = 10_000
MAX_IMPORT_BYTES = 5 * MB
MAX_PROFILE_BYTES = 100 * KB
MAX_EVENTS = 1000
MAX_EVENT_BYTES = 5 * MB
MAX_EVENT_STRING = 100 * KB
MAX_EVENT_PROPERTIES = 400
MAX_SUBSCRIBE = 1000
MAX_UNSUBSCRIBE = 100
DEFAULT_MAX_BODY = 5 * MB

# operationId -> the sentences of its spec description each batch limit above comes from
# (tests/unit/sandbox/test_openapi_subset.py checks they are still there).
BATCH_LIMITS: dict[str, tuple[str, ...]] = {
    "add_profiles_to_list": ("This endpoint accepts a maximum of 1000 profiles per call.",),
    "remove_profiles_from_list": ("This endpoint accepts a maximum of 1000 profiles per call.",),
    "bulk_import_profiles": (
        "Accepts up to 10,000 profiles per request.",
        "The maximum allowed payload size is 5MB.",
        "The maximum allowed payload size per-profile is 100KB.",
    ),
    "create_or_update_profile": ("The maximum allowed payload size is 100KB.",),
    "bulk_create_events": (
        "Accepts up to 1,000 events per request.",
        "The maximum allowed payload size is 5MB.",
        "A single string cannot exceed 100KB.",
    ),
    "bulk_subscribe_profiles": (
        "Maximum number of profiles can be submitted for subscription: 1000",
    ),
    "bulk_unsubscribe_profiles": ("Maximum number of profiles per call: 100",),
}
BODY_LIMITS = {
    "bulk_import_profiles": MAX_IMPORT_BYTES,
    "bulk_create_events": MAX_EVENT_BYTES,
    "create_or_update_profile": MAX_PROFILE_BYTES,
}


def rate_limits(operation: Operation) -> tuple[Limit, ...]:
    """The operation's `x-klaviyo-ratelimit` as limits ("burst", "steady", "daily")."""
    declared = operation.raw.get("x-klaviyo-ratelimit")
    if not declared:
        raise ValueError(f"{operation.operation_id} has no x-klaviyo-ratelimit in the spec")
    return tuple(parse_limit(name, text) for name, text in declared.items())
