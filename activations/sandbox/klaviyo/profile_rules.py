"""The rules of a profile write: which attributes are valid, how identifiers match, how it merges.

`KlaviyoState` applies them; its docstring says where these choices fill gaps in the spec.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from activations.sandbox.klaviyo.records import IDENTIFIERS, PROFILE_FIELDS, Profile, Rejection

_EMAIL = re.compile(r"^[^@\s]+@[^@\s.]+(\.[^@\s.]+)*\.[A-Za-z0-9-]{2,}$")
_E164 = re.compile(r"^\+[1-9]\d{1,14}$")


def invalid_attributes(profile_id: str | None, attributes: Mapping[str, Any]) -> Rejection | None:
    """Why these attributes cannot be written whatever the account holds, if they cannot."""
    email = attributes.get("email")
    if email is not None and not (isinstance(email, str) and _EMAIL.match(email)):
        return Rejection("invalid", "Invalid input.", "Invalid email address.", "email")
    phone = attributes.get("phone_number")
    if phone is not None and not (isinstance(phone, str) and _E164.match(phone)):
        return Rejection(
            "invalid",
            "Invalid input.",
            "Invalid phone number format (Example of a valid format: +12345678901).",
            "phone_number",
        )
    if profile_id is None and not any(attributes.get(name) for name in IDENTIFIERS):
        return Rejection(
            "invalid",
            "Invalid input.",
            "A profile needs an identifier: one of email, phone_number, external_id or id.",
        )
    return None


def normalise(attribute: str, value: str) -> str:
    """An identifier as it is matched: emails case-insensitively, all without surrounding space."""
    return value.strip().lower() if attribute == "email" else value.strip()


def merged(
    existing: Profile | None,
    profile_id: str,
    attributes: Mapping[str, Any],
    meta: Mapping[str, Any] | None,
    now: str,
) -> Profile:
    """The profile after this write: `existing` with `attributes` and `meta.patch_properties`."""
    values: dict[str, Any] = {name: getattr(existing, name, None) for name in PROFILE_FIELDS}
    values.update({name: attributes[name] for name in PROFILE_FIELDS if name in attributes})
    location = dict(existing.location) if existing else {}
    if "location" in attributes:
        location = {} if attributes["location"] is None else {**location, **attributes["location"]}
    properties = dict(existing.properties) if existing else {}
    if "properties" in attributes:
        sent = attributes["properties"]
        properties = {} if sent is None else {**properties, **sent}
    _patch(properties, ((meta or {}).get("patch_properties") or {}))
    return Profile(
        id=profile_id,
        **values,
        location=location,
        properties=properties,
        created=existing.created if existing else now,
        updated=now,
    )


def _patch(properties: dict[str, Any], patch: Mapping[str, Any]) -> None:
    """Apply `patch_properties` (unset, append, unappend) in place."""
    unset = patch.get("unset")
    for key in [unset] if isinstance(unset, str) else unset or []:
        properties.pop(key, None)
    for key, value in (patch.get("append") or {}).items():
        current = properties.get(key)
        items = [] if current is None else list(current) if isinstance(current, list) else [current]
        items.extend(value if isinstance(value, list) else [value])
        properties[key] = items
    for key, value in (patch.get("unappend") or {}).items():
        current = properties.get(key)
        if isinstance(current, list):
            drop = value if isinstance(value, list) else [value]
            properties[key] = [item for item in current if item not in drop]
