"""The slice of Omnisend's three OpenAPI documents the sandbox serves, and the limits they state.

Omnisend's documents carry no `operationId`, so operations are named `"METHOD /path"`
(`extract_spec.operation_key`). Rate limits and batch sizes the documents state only in prose or
in `maxItems`; the constants here are backed by the sentences quoted in `STATED_LIMITS`
(tests/unit/sandbox/test_omnisend_spec.py checks they are still in the committed subsets).
"""

from __future__ import annotations

from pathlib import Path

SPECS_DIR = Path(__file__).parent.parent / "specs"
API_VERSION = "2026-03-15"

# document name -> (operations served, committed subset)
DOCUMENTS: dict[str, tuple[tuple[str, ...], Path]] = {
    "contacts": (
        (
            "GET /contacts",
            "POST /contacts",
            "GET /contacts/{id}",
            "POST /contacts/tags",
            "DELETE /contacts/tags",
        ),
        SPECS_DIR / f"omnisend-contacts-{API_VERSION}.json",
    ),
    "events": (("POST /events",), SPECS_DIR / f"omnisend-events-{API_VERSION}.json"),
    "batches": (
        (
            "GET /batches",
            "POST /batches",
            "GET /batches/{batchID}",
            "GET /batches/{batchID}/items",
        ),
        SPECS_DIR / f"omnisend-batches-{API_VERSION}.json",
    ),
}

BRAND_PER_MINUTE = 400
TAGS_PER_MINUTE = 60
MAX_BATCH_ITEMS = 100
MAX_TAG_ADDRESSES = 250
TAG_OPERATIONS = ("POST /contacts/tags", "DELETE /contacts/tags")

# operation -> sentences of its description the limits above come from
STATED_LIMITS: dict[str, tuple[str, ...]] = {
    "POST /contacts": ("This endpoint is rate limited to 400 requests per minute.",),
    "POST /contacts/tags": (
        "This endpoint is rate limited to 60 requests per minute.",
        "Emails and phones with no matching contact are silently ignored.",
        "Tagging is performed asynchronously",
    ),
    "POST /batches": (
        "Each batch operation can include up to 100 actions.",
        "Creating batches is an asynchronous process",
    ),
}
