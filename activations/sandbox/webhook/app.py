"""The sandbox's ASGI app: `WebhookSandbox` checks, parses, deduplicates and records deliveries.

Each `POST /hooks/{name}` passes, in order: the `Cohortflow-Signature` over the raw body bytes,
within `tolerance_seconds` of the receiver's clock (401), the body as strict JSON (400
"invalid_json"), the payload's shape (400 "invalid_payload"), `Cohortflow-Batch-Id` equal to the
body's `batch_id` (400 "batch_id_mismatch"); only then is the batch recorded, applied once per
hook and batch id (200, `duplicate` says whether it was already applied). Refusals answer
`{"error": "<reason>"}` and are counted in `state.rejected` by kind. The signature comes first
because a receiver must not act on, or even parse, bytes nobody vouched for.

`GET /sandbox/state` is outside the hooks: never faulted, no signature.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping
from typing import Any, NoReturn

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from activations.sandbox.faults import (
    FaultControls,
    FaultKind,
    FaultMiddleware,
    FaultPicker,
    Faults,
    Scope,
    fault_counter,
)
from activations.sandbox.webhook.state import BATCH_TYPES, KEYS, Delivery, WebhookState
from activations.webhook_signature import (
    BATCH_ID_HEADER,
    DEFAULT_TOLERANCE_SECONDS,
    SIGNATURE_HEADER,
    SignatureError,
    verify,
)

HOOKS_PREFIX = "/hooks/"
STATE_PATH = "/sandbox/state"


class Refusal(Exception):
    """A delivery the receiver refuses: the HTTP status, the kind counted in `state.rejected`,
    and the reason sent back as `{"error": reason}`."""

    def __init__(self, status: int, kind: str, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.kind = kind
        self.reason = reason


class WebhookSandbox(FaultControls):
    """A partner's webhook receiver: `app` is the ASGI application, `state` what it received.

    One sandbox stands in for any number of partner endpoints: a destination configured with
    `url: http://127.0.0.1:PORT/hooks/crm` posts to hook "crm", and each delivery is recorded
    under its hook's name. All hooks share the one signing secret.

    Args:
        secret: the signing secret shared with the sender.
        tolerance_seconds: how far a delivery's signed timestamp may be from `clock`, either way.
        faults: fault injection settings (applied to `/hooks/` requests only).
        seed: seeds fault choices.
        clock: the receiver's wall clock in Unix seconds (default `time.time`), injectable so
            tests age a delivery past the tolerance without sleeping.
    """

    def __init__(
        self,
        secret: str,
        *,
        tolerance_seconds: int = DEFAULT_TOLERANCE_SECONDS,
        faults: Faults | None = None,
        seed: int = 0,
        clock: Callable[[], float] | None = None,
    ) -> None:
        if not secret:
            raise ValueError("the webhook sandbox needs a signing secret to check deliveries")
        if tolerance_seconds < 0:
            raise ValueError(f"tolerance_seconds must be >= 0, got {tolerance_seconds!r}")
        self.secret = secret
        self.tolerance_seconds = tolerance_seconds
        self.clock = clock or time.time
        self.state = WebhookState()
        self._picker = FaultPicker(faults or Faults(), seed)
        inner = Starlette(
            routes=[
                Route(STATE_PATH, self._sandbox_state, methods=["GET"]),
                Route(HOOKS_PREFIX + "{name}", self._hook, methods=["POST"]),
            ],
            exception_handlers={404: _not_found, 405: _method_not_allowed},
        )
        self.app = FaultMiddleware(
            inner,
            self._picker,
            applies_to=_is_hook,
            error_body=_fault_body,
            on_fault=fault_counter(self.state),
        )

    async def _sandbox_state(self, request: Request) -> Response:
        return JSONResponse(self.state.summary())

    async def _hook(self, request: Request) -> Response:
        body = await request.body()
        try:
            delivery = self._receive(request.path_params["name"], request, body)
        except Refusal as refusal:
            self.state.reject(refusal.kind)
            return JSONResponse({"error": refusal.reason}, status_code=refusal.status)
        return JSONResponse(answer(delivery))

    def _receive(self, hook: str, request: Request, body: bytes) -> Delivery:
        """Check one delivery in the documented order and record it."""
        now = self.clock()
        timestamp = self._authenticate(request, body, now)
        payload = parse_json(body)
        check_payload(payload)
        check_batch_id(request.headers.get(BATCH_ID_HEADER), payload["batch_id"])
        return self.state.receive(hook, payload, timestamp=timestamp, received_at=now)

    def _authenticate(self, request: Request, body: bytes, now: float) -> int:
        """The signed timestamp, or a 401. Repeated header lines count as one comma-joined
        value (HTTP's rule), so rotation entries split over two lines still verify."""
        header = ",".join(request.headers.getlist(SIGNATURE_HEADER)) or None
        try:
            return verify(
                self.secret, header, body, now=now, tolerance_seconds=self.tolerance_seconds
            )
        except SignatureError as error:
            raise Refusal(401, error.kind, str(error)) from None


def parse_json(body: bytes) -> Any:
    """The body as strict JSON: UTF-8, no NaN or Infinity (not JSON, and no other parser reads
    them), and no nesting deep enough to exhaust the parser."""
    try:
        return json.loads(body.decode("utf-8"), parse_constant=_refuse_constant)
    except (UnicodeDecodeError, ValueError, RecursionError) as error:
        reason = str(error) if not isinstance(error, RecursionError) else "nested too deeply"
        raise Refusal(400, "invalid_json", f"the body is not valid JSON: {reason}") from None


def check_payload(payload: Any) -> None:
    """The destination's batch shape: `batch_id` and `segment` non-empty strings, a known
    `keyed_by` and `type`, and `records` a list of objects with a non-empty string `id`.
    Other top-level fields are allowed (a sender may add some before a receiver knows them)."""
    if not isinstance(payload, dict):
        _invalid("the body must be a JSON object")
    for field in ("batch_id", "segment"):
        value = payload.get(field)
        if not isinstance(value, str) or not value:
            _invalid(f"{field} must be a non-empty string")
    if not _one_of(payload.get("keyed_by"), KEYS):
        _invalid(f"keyed_by must be one of {', '.join(KEYS)}")
    if not _one_of(payload.get("type"), BATCH_TYPES):
        _invalid(f"type must be one of {', '.join(BATCH_TYPES)}")
    records = payload.get("records")
    if not isinstance(records, list):
        _invalid("records must be a list")
    for index, record in enumerate(records):
        if not isinstance(record, dict):
            _invalid(f"records[{index}] must be an object")
        identifier = record.get("id")
        if not isinstance(identifier, str) or not identifier:
            _invalid(f"records[{index}].id must be a non-empty string")


def check_batch_id(header: str | None, batch_id: str) -> None:
    """The header must name the body's batch: a receiver that deduplicates on the header
    (before parsing) and one that does so on the body must agree."""
    if header is None:
        raise Refusal(400, "batch_id_mismatch", f"no {BATCH_ID_HEADER} header")
    if header != batch_id:
        raise Refusal(
            400,
            "batch_id_mismatch",
            f"{BATCH_ID_HEADER} {header[:80]!r} is not the body's batch_id {batch_id[:80]!r}",
        )


def answer(delivery: Delivery) -> dict[str, Any]:
    """The 200 body: a duplicate only confirms the id; a new batch also counts its records."""
    if delivery.duplicate:
        return {"batch_id": delivery.batch_id, "duplicate": True}
    records = delivery.payload["records"]
    return {"batch_id": delivery.batch_id, "records": len(records), "duplicate": False}


def _one_of(value: Any, allowed: tuple[str, ...]) -> bool:
    return isinstance(value, str) and value in allowed


def _invalid(reason: str) -> NoReturn:
    raise Refusal(400, "invalid_payload", reason)


def _refuse_constant(name: str) -> NoReturn:
    raise ValueError(f"{name} is not JSON")


async def _not_found(request: Request, exc: Exception) -> Response:
    return JSONResponse(
        {"error": f"no such endpoint {request.url.path}; deliveries go to POST /hooks/<name>"},
        status_code=404,
    )


async def _method_not_allowed(request: Request, exc: Exception) -> Response:
    headers: Mapping[str, str] | None = getattr(exc, "headers", None)
    allowed = (headers or {}).get("Allow", "POST")
    return JSONResponse(
        {"error": f"method {request.method} not allowed on {request.url.path}; use {allowed}"},
        status_code=405,
        headers={"Allow": allowed},
    )


def _fault_body(status: int, kind: FaultKind) -> tuple[bytes, str]:
    reason = "too many deliveries; retry later" if status == 429 else "the receiver failed"
    return json.dumps({"error": f"{reason} (injected {kind})"}).encode(), "application/json"


def _is_hook(scope: Scope) -> bool:
    return str(scope.get("path", "")).startswith(HOOKS_PREFIX)
