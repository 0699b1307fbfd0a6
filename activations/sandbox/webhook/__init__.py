"""A local webhook receiver: the partner endpoint cohortflow's `webhook` destination posts to.

It behaves like a careful real receiver, so the destination is tested against the checks a
partner will make: the `Cohortflow-Signature` over the raw body (`activations.webhook_signature`),
a timestamp within the tolerance (a replayed delivery is refused), the batch's JSON shape, the
`Cohortflow-Batch-Id` header naming the body's batch, and deduplication by batch id, so an
at-least-once sender's re-sends (after a lost answer, `drop_after`) are applied once.

Implemented: any number of hooks (`POST /hooks/{name}`) under one secret; refusals as
`{"error": reason}` with 401/400 and counts by kind; every accepted delivery kept in arrival
order, duplicates included; the shared fault injection on `/hooks/` paths; and
`GET /sandbox/state` with `WebhookState.summary()`.

Not implemented: per-hook secrets, body size limits, Content-Type checks, asynchronous
processing (a real receiver may queue and answer 202), and retries or callbacks from the
receiver's side.

Layout: `app` (the ASGI pipeline and the checks), `state` (what was received).
"""

from __future__ import annotations

from activations.sandbox.webhook.app import HOOKS_PREFIX, STATE_PATH, Refusal, WebhookSandbox
from activations.sandbox.webhook.state import (
    BATCH_TYPES,
    KEYS,
    Delivery,
    KeyedBy,
    Kind,
    WebhookState,
    change_of,
)

__all__ = [
    "BATCH_TYPES",
    "HOOKS_PREFIX",
    "KEYS",
    "STATE_PATH",
    "Delivery",
    "KeyedBy",
    "Kind",
    "Refusal",
    "WebhookSandbox",
    "WebhookState",
    "change_of",
]
