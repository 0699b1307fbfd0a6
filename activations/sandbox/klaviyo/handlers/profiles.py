"""The profile operations: get_profiles (filtered, sorted, paged) and create_or_update_profile."""

from __future__ import annotations

from activations.sandbox.klaviyo.filters import holds
from activations.sandbox.klaviyo.jsonapi import (
    ApiError,
    Call,
    Reply,
    filter_conditions,
    paginate,
    sort_by,
    sparse,
)
from activations.sandbox.klaviyo.records import IDENTIFIERS, Rejection, attribute_pointer
from activations.sandbox.klaviyo.resources import profile_resource
from activations.sandbox.klaviyo.state import KlaviyoState


def get_profiles(state: KlaviyoState, call: Call) -> Reply:
    """`GET /api/profiles`: filtered (by the identifier index when it can), sorted, paged."""
    conditions = filter_conditions(
        call, {"id", "email", "phone_number", "external_id", "created", "updated"}
    )
    indexed = [
        c for c in conditions if c.operator in ("equals", "any") and c.field in ("id", *IDENTIFIERS)
    ]
    if indexed:
        first = indexed[0]
        values = first.value if isinstance(first.value, list) else [first.value]
        candidates = state.profiles_with(first.field, [str(v) for v in values])
    else:
        candidates = state.all_profiles()
    profiles = [p for p in candidates if all(holds(c, getattr(p, c.field)) for c in conditions)]
    profiles = sort_by(profiles, call.query.get("sort"), {"created", "email", "id", "updated"})
    page, links = paginate(call, profiles)
    data = [profile_resource(state, p.id, call) for p in page]
    return Reply(200, sparse({"data": data, "links": links}, call.query))


def create_or_update_profile(state: KlaviyoState, call: Call) -> Reply:
    """`POST /api/profile-import`: upsert one profile (201 new, 200 updated)."""
    data = call.body["data"]
    result = state.upsert(data.get("id"), data["attributes"], data.get("meta"))
    if isinstance(result, Rejection):
        if result.code == "duplicate_profile":
            raise ApiError(
                409,
                "duplicate_profile",
                result.title,
                result.detail,
                pointer="/data/attributes",
                meta={"duplicate_profile_id": result.duplicate_of},
            )
        raise ApiError(
            404 if result.code == "not_found" else 400,
            result.code,
            result.title,
            result.detail,
            pointer="/data" + attribute_pointer(result.attribute),
        )
    profile, created = result
    resource = profile_resource(state, profile.id, call)
    document = {"data": resource, "links": resource["links"]}
    return Reply(201 if created else 200, sparse(document, call.query))
