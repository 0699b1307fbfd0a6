"""Decode an `application/x-www-form-urlencoded` body into the values the spec's schema types.

Why: form values are all strings, but the CreateMessageRequest schema declares integers
(`ValidityPeriod`), booleans (`SmartEncoded`) and arrays (`MediaUrl`, given as the same key
repeated). Each value is converted to the type its property declares, so validating the result
against the schema refuses exactly what does not convert; names the schema does not declare are
kept as strings (Twilio ignores unknown parameters: its warning 20001).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import parse_qsl

_BOOLEANS = {"true": True, "false": False}


def parse_form(raw: bytes, schema: Mapping[str, Any]) -> dict[str, Any]:
    """The form's parameters, typed by `schema`'s properties; a repeated key keeps its last value
    unless its property is an array.

    Raises:
        UnicodeDecodeError: the body is not UTF-8.
    """
    properties: Mapping[str, Any] = schema.get("properties", {})
    form: dict[str, Any] = {}
    for name, text in parse_qsl(raw.decode("utf-8"), keep_blank_values=True):
        kind = properties.get(name, {}).get("type")
        if kind == "array":
            form.setdefault(name, []).append(text)
        else:
            form[name] = _typed(text, kind)
    return form


def _typed(text: str, kind: str | None) -> Any:
    """`text` as the scalar type `kind`, or unchanged when it does not convert (so the schema
    check reports it)."""
    try:
        if kind == "integer":
            return int(text)
        if kind == "number":
            return float(text)
    except ValueError:
        return text
    if kind == "boolean":
        return _BOOLEANS.get(text.lower(), text)
    return text
