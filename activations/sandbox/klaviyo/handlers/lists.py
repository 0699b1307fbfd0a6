"""The list operations: get_lists, create_list, and adding and removing list members."""

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
from activations.sandbox.klaviyo.resources import list_resource
from activations.sandbox.klaviyo.spec import MAX_LIST_PROFILES
from activations.sandbox.klaviyo.state import KlaviyoState


def get_lists(state: KlaviyoState, call: Call) -> Reply:
    """`GET /api/lists`: filtered on id, name, created or updated; sorted; paged."""
    conditions = filter_conditions(call, {"id", "name", "created", "updated"})
    records = [
        record
        for record in state.all_lists()
        if all(holds(c, getattr(record, c.field)) for c in conditions)
    ]
    records = sort_by(records, call.query.get("sort"), {"created", "id", "name", "updated"})
    page, links = paginate(call, records)
    document = {"data": [list_resource(r, call.base) for r in page], "links": links}
    return Reply(200, sparse(document, call.query))


def create_list(state: KlaviyoState, call: Call) -> Reply:
    """`POST /api/lists`: a new list (names need not be unique)."""
    attributes = call.body["data"]["attributes"]
    record = state.create_list(attributes["name"], attributes.get("opt_in_process"))
    resource = list_resource(record, call.base)
    return Reply(201, sparse({"data": resource, "links": resource["links"]}, call.query))


def add_profiles_to_list(state: KlaviyoState, call: Call) -> Reply:
    """`POST /api/lists/{id}/relationships/profiles`: existing profiles join."""
    list_id, profile_ids = _membership_call(state, call)
    state.add_members(list_id, profile_ids)
    return Reply(204)


def remove_profiles_from_list(state: KlaviyoState, call: Call) -> Reply:
    """`DELETE /api/lists/{id}/relationships/profiles`: profiles leave."""
    list_id, profile_ids = _membership_call(state, call)
    state.remove_members(list_id, profile_ids)
    return Reply(204)


def _membership_call(state: KlaviyoState, call: Call) -> tuple[str, list[str]]:
    items = call.body["data"]
    if len(items) > MAX_LIST_PROFILES:
        raise ApiError(
            400,
            "invalid",
            "Invalid input.",
            f"This endpoint accepts a maximum of {MAX_LIST_PROFILES} profiles per call, "
            f"got {len(items)}.",
            pointer="/data",
        )
    list_id = call.path_params["id"]
    if state.get_list(list_id) is None:
        raise ApiError(404, "not_found", "Not found.", "No list with this id.", parameter="id")
    for index, item in enumerate(items):
        if state.profile(item["id"]) is None:
            raise ApiError(
                400,
                "invalid",
                "Invalid input.",
                f"No profile with id {item['id'][:40]!r}.",
                pointer=f"/data/{index}/id",
            )
    return list_id, [item["id"] for item in items]
