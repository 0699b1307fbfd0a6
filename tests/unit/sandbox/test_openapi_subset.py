"""The committed Klaviyo spec subset: complete, self-contained, and exactly what extraction makes.

Why: the sandbox validates against this file and routes from it. A hand-edit, a dangling $ref or
a stale copy would make the sandbox accept or refuse requests the vendor treats otherwise.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from activations.sandbox.extract_spec import (
    PROVENANCE_KEY,
    extract_subset,
    iter_refs,
    render,
    sha256_of,
    split_ref,
)
from activations.sandbox.klaviyo import BATCH_LIMITS, OPERATIONS, SPEC_PATH, rate_limits
from activations.sandbox.limits import Limit
from activations.sandbox.openapi import ApiSpec, MethodNotAllowed, RouteNotFound, to_json_schema

SOURCE = Path("/work/shared/api-specs/klaviyo/openapi-stable.json")
SOURCE_SHA256 = "deb88f1dfad82fd530433555d3180fdc29633143d21e7347a9726cbea3fae2a9"

# What NOTES.md and the brief say each operation is: the subset must agree.
ROUTES = {
    "get_lists": ("GET", "/api/lists"),
    "create_list": ("POST", "/api/lists"),
    "add_profiles_to_list": ("POST", "/api/lists/{id}/relationships/profiles"),
    "remove_profiles_from_list": ("DELETE", "/api/lists/{id}/relationships/profiles"),
    "bulk_import_profiles": ("POST", "/api/profile-bulk-import-jobs"),
    "get_bulk_import_profiles_job": ("GET", "/api/profile-bulk-import-jobs/{job_id}"),
    "get_errors_for_bulk_import_profiles_job": (
        "GET",
        "/api/profile-bulk-import-jobs/{id}/import-errors",
    ),
    "get_profiles_for_bulk_import_profiles_job": (
        "GET",
        "/api/profile-bulk-import-jobs/{id}/profiles",
    ),
    "get_profiles": ("GET", "/api/profiles"),
    "create_or_update_profile": ("POST", "/api/profile-import"),
    "bulk_create_events": ("POST", "/api/event-bulk-create-jobs"),
    "bulk_subscribe_profiles": ("POST", "/api/profile-subscription-bulk-create-jobs"),
    "bulk_unsubscribe_profiles": ("POST", "/api/profile-subscription-bulk-delete-jobs"),
}


@pytest.fixture(scope="module")
def document() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(SPEC_PATH.read_text(encoding="utf-8"))
    return loaded


def test_every_ref_resolves_inside_the_subset(document: dict[str, Any]) -> None:
    refs = set(iter_refs(document))
    assert refs, "the subset references components"
    for ref in refs:
        section, name = split_ref(ref)
        assert name in document["components"].get(section, {}), ref
    for requirement in document["security"]:
        for scheme in requirement:
            assert scheme in document["components"]["securitySchemes"]


def test_the_subset_holds_only_what_its_operations_reference(document: dict[str, Any]) -> None:
    referenced = {split_ref(ref) for ref in iter_refs(document)}
    for section, entries in document["components"].items():
        if section == "securitySchemes":
            continue
        for name in entries:
            assert (section, name) in referenced, f"unreferenced component {section}/{name}"


def test_every_routed_operation_is_in_the_subset_with_its_method(document: dict[str, Any]) -> None:
    spec = ApiSpec(document)
    assert set(OPERATIONS) == set(ROUTES) == set(spec.operations)
    for operation_id, (method, path) in ROUTES.items():
        operation = spec.operations[operation_id]
        assert (operation.method, operation.path) == (method, path)
        concrete = path.replace("{id}", "AbC123").replace("{job_id}", "01JOB")
        assert spec.match(method, concrete).operation.operation_id == operation_id
        assert spec.match(method, concrete + "/").operation.operation_id == operation_id
    with pytest.raises(MethodNotAllowed) as refused:
        spec.match("PATCH", "/api/lists")
    assert refused.value.allowed == ("GET", "POST")
    with pytest.raises(RouteNotFound):
        spec.match("GET", "/api/lists/AbC123/tags")


def test_the_subset_is_exactly_what_extraction_makes(document: dict[str, Any]) -> None:
    provenance = document[PROVENANCE_KEY]
    assert provenance["revision"] == "2026-07-15" == document["info"]["version"]
    assert provenance["operations"] == sorted(OPERATIONS)
    assert provenance["source_sha256"] == SOURCE_SHA256
    if not SOURCE.exists():
        return  # the vendor file is not here: the recorded provenance above is what we can check
    assert sha256_of(SOURCE) == SOURCE_SHA256
    source = json.loads(SOURCE.read_text(encoding="utf-8"))
    fresh = render(
        extract_subset(source, OPERATIONS, source_sha256=SOURCE_SHA256, source=SOURCE.name)
    )
    assert fresh == SPEC_PATH.read_text(encoding="utf-8"), (
        "stale subset: python -m activations.sandbox.extract_spec " + str(SOURCE)
    )
    for path, item in document["paths"].items():
        for method, operation in item.items():
            if isinstance(operation, dict) and "operationId" in operation:
                assert operation == source["paths"][path][method], "operations are kept unmodified"


def test_batch_limits_quote_the_operation_descriptions(document: dict[str, Any]) -> None:
    spec = ApiSpec(document)
    for operation_id, sentences in BATCH_LIMITS.items():
        description = spec.operations[operation_id].raw["description"]
        for sentence in sentences:
            assert sentence in description, (operation_id, sentence)


def test_every_operation_declares_its_rate_limits(document: dict[str, Any]) -> None:
    spec = ApiSpec(document)
    limits = {op: rate_limits(spec.operations[op]) for op in OPERATIONS}
    assert limits["create_list"] == (
        Limit("burst", 10, 1.0),
        Limit("steady", 150, 60.0),
        Limit("daily", 150, 86400.0),
    )
    assert limits["get_lists"] == (Limit("burst", 75, 1.0), Limit("steady", 750, 60.0))
    assert all({limit.name for limit in found} >= {"burst", "steady"} for found in limits.values())


def test_nullable_becomes_or_null_for_jsonschema() -> None:
    assert to_json_schema({"type": "string", "nullable": True}) == {"type": ["string", "null"]}
    assert to_json_schema({"type": "string", "enum": ["a"], "nullable": True}) == {
        "type": ["string", "null"],
        "enum": ["a", None],
    }
    wrapped = to_json_schema({"$ref": "#/components/schemas/X", "nullable": True})
    assert wrapped == {"anyOf": [{"$ref": "#/components/schemas/X"}, {"type": "null"}]}
    assert to_json_schema({"type": "string", "nullable": False}) == {"type": "string"}


def test_request_bodies_validate_with_pointers(document: dict[str, Any]) -> None:
    spec = ApiSpec(document)
    create = spec.operations["create_list"]
    good = {"data": {"type": "list", "attributes": {"name": "VIP", "opt_in_process": None}}}
    assert spec.validate_body(create, good) == []
    (missing,) = spec.validate_body(create, {"data": {"type": "list", "attributes": {}}})
    assert missing.pointer == "/data/attributes/name"
    (wrong,) = spec.validate_body(
        create, {"data": {"type": "list", "attributes": {"name": "x", "opt_in_process": "maybe"}}}
    )
    assert wrong.pointer == "/data/attributes/opt_in_process"
    lists = spec.operations["get_lists"]
    assert spec.validate_query(lists, [("page[size]", "10"), ("fields[list]", "name,id")]) == []
    (too_big,) = spec.validate_query(lists, [("page[size]", "11")])
    assert too_big.parameter == "page[size]"
    (bad_field,) = spec.validate_query(lists, [("fields[list]", "name,colour")])
    assert bad_field.parameter == "fields[list]"
