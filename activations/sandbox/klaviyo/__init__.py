"""A local Klaviyo: the operations cohortflow syncs through, served faithfully to the vendor's spec.

Follows `specs/klaviyo-2026-07-15.json`, a subset of `shared/api-specs/klaviyo/openapi-stable.json`
(revision 2026-07-15) made by `extract_spec.py`. Routes, request-body schemas, query parameters and
rate limits (`x-klaviyo-ratelimit`: burst per 1 s, steady per 60 s, create_list also 150 per day,
fixed windows per account and operation) come from the spec; batch limits are the sentences of
the operation descriptions quoted in `BATCH_LIMITS`.

Why a faithful fake: the sync's correctness (no duplicate events, no lost acknowledgements, no
profile split in two) depends on vendor behaviour the docs state in prose: deduplication on
`unique_id`, upsert matching, 409 duplicate_profile, asynchronous import jobs with per-row
errors. Tests and benchmarks run against this on loopback; `/__sandbox__/state` lets another
process (the demo) inspect what arrived.

Where the spec is silent, the choices are documented on `KlaviyoState` and in the handlers.

Layout: `app` (the ASGI pipeline), `handlers/` (one module per resource), `state` with `records`
and `profile_rules` (what the account holds), `spec` (operations and limits), `jsonapi`,
`resources` and `filters` (the wire format), `ids`.
"""

from __future__ import annotations

from activations.sandbox.klaviyo.app import KlaviyoSandbox
from activations.sandbox.klaviyo.filters import Condition, FilterError, parse_filter
from activations.sandbox.klaviyo.jsonapi import ApiError
from activations.sandbox.klaviyo.records import (
    ConsentView,
    Event,
    ImportFailure,
    LoggedRequest,
    Profile,
    Rejection,
    RequestStats,
)
from activations.sandbox.klaviyo.spec import BATCH_LIMITS, OPERATIONS, SPEC_PATH, rate_limits
from activations.sandbox.klaviyo.state import KlaviyoState

__all__ = [
    "BATCH_LIMITS",
    "OPERATIONS",
    "SPEC_PATH",
    "ApiError",
    "Condition",
    "ConsentView",
    "Event",
    "FilterError",
    "ImportFailure",
    "KlaviyoSandbox",
    "KlaviyoState",
    "LoggedRequest",
    "Profile",
    "Rejection",
    "RequestStats",
    "parse_filter",
    "rate_limits",
]
