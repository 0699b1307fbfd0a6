"""A local Omnisend: contacts, tags, events and batches, served to the vendor's own documents.

Follows `specs/omnisend-{contacts,events,batches}-2026-03-15.json`, subsets of
`shared/api-specs/omnisend/` made by `extract_spec.py`. Routes, request-body schemas and query
parameters come from the spec; rules the documents state in prose (upsert by email, tags
asynchronous with unmatched addresses ignored, 100 items per batch, 400/min per brand in a
sliding window and 60/min on /contacts/tags, historical-event dedup) are implemented in
`handlers` and `state` and quoted in `spec.STATED_LIMITS`.

Layout: `app` (the ASGI pipeline), `handlers` (operation logic), `state` (what the brand holds),
`problems` (RFC 7807 error bodies), `spec` (documents, operations, limits).
"""

from __future__ import annotations

from activations.sandbox.omnisend.app import OmnisendSandbox
from activations.sandbox.omnisend.problems import FieldError, Problem
from activations.sandbox.omnisend.spec import API_VERSION, DOCUMENTS, STATED_LIMITS
from activations.sandbox.omnisend.state import OmnisendState

__all__ = [
    "API_VERSION",
    "DOCUMENTS",
    "STATED_LIMITS",
    "FieldError",
    "OmnisendSandbox",
    "OmnisendState",
    "Problem",
]
