"""The consent operations: bulk_subscribe_profiles and bulk_unsubscribe_profiles."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from activations.sandbox.klaviyo.jsonapi import ApiError, Call, Reply, parse_instant
from activations.sandbox.klaviyo.records import Rejection, attribute_pointer
from activations.sandbox.klaviyo.spec import MAX_SUBSCRIBE, MAX_UNSUBSCRIBE
from activations.sandbox.klaviyo.state import KlaviyoState


def bulk_subscribe(state: KlaviyoState, call: Call) -> Reply:
    """Validate every profile first, then record consent and join the list if one is given."""
    data = call.body["data"]
    attributes = data["attributes"]
    profiles = attributes["profiles"]["data"]
    _check_count(profiles, MAX_SUBSCRIBE, "/data/attributes/profiles/data")
    list_id = _optional_list(state, data)
    historical = bool(attributes.get("historical_import"))
    now = state.clock.datetime_at(state.now())
    for i, profile in enumerate(profiles):
        where = f"/data/attributes/profiles/data/{i}"
        values = profile["attributes"]
        _check_consent_profile(state, profile, where)
        for channel, identifier in (("email", "email"), ("sms", "phone_number")):
            marketing = (values["subscriptions"].get(channel) or {}).get("marketing")
            if marketing is None:
                continue
            if not values.get(identifier):
                raise ApiError(
                    400,
                    "invalid",
                    "Invalid input.",
                    f"Subscribing to {channel} marketing needs {identifier}.",
                    pointer=f"{where}/attributes/{identifier}",
                )
            consented_at = marketing.get("consented_at")
            if historical and (consented_at is None or parse_instant(consented_at, where) >= now):
                raise ApiError(
                    400,
                    "invalid",
                    "Invalid input.",
                    "historical_import needs a consented_at in the past.",
                    pointer=f"{where}/attributes/subscriptions/{channel}/marketing/consented_at",
                )
    for profile in profiles:
        values = profile["attributes"]
        identifiers = {k: values[k] for k in ("email", "phone_number") if values.get(k)}
        result = state.upsert(profile.get("id"), identifiers, on_conflict="first")
        if isinstance(result, Rejection):
            raise ApiError(400, "invalid", result.title, result.detail)
        profile_id = result[0].id
        for channel in ("email", "sms"):
            marketing = (values["subscriptions"].get(channel) or {}).get("marketing")
            if marketing is not None:
                when = marketing.get("consented_at") or state.iso()
                state.set_consent(
                    profile_id, channel, "SUBSCRIBED", when, attributes.get("custom_source")
                )
        if list_id is not None:
            state.lift_list_suppression(profile_id, list_id)
            state.add_members(list_id, [profile_id])
    return Reply(202)


def bulk_unsubscribe(state: KlaviyoState, call: Call) -> Reply:
    """Unsubscribing with a list the profile is in is a list-level unsubscribe (out of the
    list, a list suppression, consent unchanged); otherwise it is global, as the spec warns."""
    data = call.body["data"]
    profiles = data["attributes"]["profiles"]["data"]
    _check_count(profiles, MAX_UNSUBSCRIBE, "/data/attributes/profiles/data")
    list_id = _optional_list(state, data)
    for i, profile in enumerate(profiles):
        _check_consent_profile(state, profile, f"/data/attributes/profiles/data/{i}")
    for profile in profiles:
        values = profile["attributes"]
        identifiers = {k: values[k] for k in ("email", "phone_number") if values.get(k)}
        result = state.upsert(None, identifiers, on_conflict="first")
        if isinstance(result, Rejection):
            raise ApiError(400, "invalid", result.title, result.detail)
        profile_id = result[0].id
        if list_id is not None and state.is_member(list_id, profile_id):
            state.suppress_in_list(profile_id, list_id)
            continue
        for channel in ("email", "sms"):
            if (values["subscriptions"].get(channel) or {}).get("marketing") is not None:
                state.set_consent(profile_id, channel, "UNSUBSCRIBED", state.iso(), None)
    return Reply(202)


def _check_consent_profile(state: KlaviyoState, profile: Mapping[str, Any], where: str) -> None:
    values = profile["attributes"]
    identifiers = {k: values.get(k) for k in ("email", "phone_number")}
    rejection = state.check_profile(profile.get("id"), identifiers)
    if rejection is not None:
        raise ApiError(
            400 if rejection.code == "invalid" else 404,
            rejection.code,
            rejection.title,
            rejection.detail,
            pointer=where + attribute_pointer(rejection.attribute),
        )


def _optional_list(state: KlaviyoState, data: Mapping[str, Any]) -> str | None:
    related = ((data.get("relationships") or {}).get("list") or {}).get("data")
    if related is None:
        return None
    if state.get_list(related["id"]) is None:
        raise ApiError(
            404,
            "not_found",
            "Not found.",
            "No list with this id.",
            pointer="/data/relationships/list/data/id",
        )
    return str(related["id"])


def _check_count(items: Sequence[Any], maximum: int, pointer: str) -> None:
    if len(items) > maximum:
        raise ApiError(
            400,
            "invalid",
            "Invalid input.",
            f"At most {maximum:,} profiles per call, got {len(items):,}.",
            pointer=pointer,
        )
