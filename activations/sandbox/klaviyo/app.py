"""The sandbox's ASGI app: `KlaviyoSandbox` authenticates, rate-limits, validates and dispatches.

Each /api/ request passes, in order: route match (404/405), API key and revision header (401/400),
the operation's rate limits (429), body size and media type (413/415), query and body validation
against the spec (400); only then does its handler run. `/__sandbox__/state` is outside the API.
"""

from __future__ import annotations

import hmac
import json
import math
import re
import time
from collections.abc import Callable, Mapping
from datetime import date
from typing import Any

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import URL
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
)
from activations.sandbox.klaviyo.handlers import HANDLERS
from activations.sandbox.klaviyo.ids import IdFactory
from activations.sandbox.klaviyo.jsonapi import CONTENT_TYPE, ApiError, Call, Reply, error_object
from activations.sandbox.klaviyo.spec import (
    BODY_LIMITS,
    DEFAULT_MAX_BODY,
    KB,
    OPERATIONS,
    SPEC_PATH,
    rate_limits,
)
from activations.sandbox.klaviyo.state import KlaviyoState
from activations.sandbox.limits import ApiClock, Decision, FixedWindowLimiter
from activations.sandbox.openapi import ApiSpec, MethodNotAllowed, Operation, RouteNotFound

SANDBOX_PREFIX = "/__sandbox__/"
_REVISION = re.compile(r"^(\d{4}-\d{2}-\d{2})(\.[A-Za-z0-9_-]+)?$")


class KlaviyoSandbox(FaultControls):
    """The Klaviyo sandbox: `app` is the ASGI application, `state` what it holds.

    Args:
        api_key: the one private key accepted (`Authorization: Klaviyo-API-Key <key>`).
        faults: fault injection settings (none by default).
        time_scale: API seconds per wall second for rate-limit windows and job durations.
        seed: seeds ids and fault choices.
        job_seconds: API seconds a bulk import job takes per 1,000 rows before it completes.
        clock: the wall clock (monotonic seconds), injectable for exact rate-limit tests.
    """

    def __init__(
        self,
        api_key: str,
        *,
        faults: Faults | None = None,
        time_scale: float = 1.0,
        seed: int = 0,
        job_seconds: float = 0.0,
        clock: Callable[[], float] | None = None,
    ) -> None:
        if not api_key:
            raise ValueError("the Klaviyo sandbox needs an api_key to accept")
        self.api_key = api_key
        self.spec = ApiSpec.load(SPEC_PATH)
        missing = [op for op in OPERATIONS if op not in self.spec.operations]
        if missing:
            raise ValueError(f"{SPEC_PATH.name} lacks {missing}: regenerate it (extract_spec)")
        self.clock = ApiClock(time_scale, monotonic=clock or time.monotonic)
        self.limiter = FixedWindowLimiter(self.clock)
        self.limits = {op: rate_limits(self.spec.operations[op]) for op in OPERATIONS}
        self._picker = FaultPicker(faults or Faults(), seed)
        self.state = KlaviyoState(
            self.clock, seed, job_seconds=job_seconds, row_fails=self._picker.row_fails
        )
        self._error_ids = IdFactory(seed, "errors")
        methods = ["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]
        inner = Starlette(
            routes=[
                Route(f"{SANDBOX_PREFIX}state", self._sandbox_state, methods=["GET"]),
                Route("/{path:path}", self._api, methods=methods),
            ]
        )
        self.app = FaultMiddleware(
            inner,
            self._picker,
            applies_to=_is_api,
            error_body=self._fault_body,
            on_fault=self.state.count_fault,
        )

    @property
    def revision(self) -> str:
        """The API revision the sandbox implements (2026-07-15)."""
        return self.spec.revision

    async def _sandbox_state(self, request: Request) -> Response:
        return JSONResponse(self.state.summary())

    async def _api(self, request: Request) -> Response:
        self.state.count_request()
        try:
            match = self.spec.match(request.method, request.url.path)
        except RouteNotFound:
            await _drain(request)
            return self._error(ApiError(404, "not_found", "Not found.", "No such endpoint."))
        except MethodNotAllowed as error:
            await _drain(request)
            response = self._error(
                ApiError(
                    405,
                    "method_not_allowed",
                    f'Method "{request.method}" not allowed.',
                    f"Allowed: {', '.join(error.allowed)}.",
                )
            )
            response.headers["Allow"] = ", ".join(error.allowed)
            return response
        operation = match.operation
        refusal = self._authenticate(request)
        if refusal is not None:
            await _drain(request)
            return self._error(refusal)
        decision = self.limiter.acquire(
            self.api_key, operation.operation_id, self.limits[operation.operation_id]
        )
        if not decision.allowed:
            await _drain(request)
            self.state.log_request(operation.operation_id, 429, decision.at)
            response = self._error(
                ApiError(
                    429,
                    "throttled",
                    "Request was throttled.",
                    f"Request was throttled. Expected available in {decision.retry_after} seconds.",
                )
            )
            response.headers["Retry-After"] = str(decision.retry_after)
            return response
        response = await self._process(request, match.operation, match.path_params)
        response.headers.update(_rate_headers(decision))
        self.state.log_request(operation.operation_id, response.status_code, decision.at)
        return response

    def _authenticate(self, request: Request) -> ApiError | None:
        header = request.headers.get("authorization")
        if not header:
            return ApiError(
                401,
                "not_authenticated",
                "Authentication credentials were not provided.",
                "Missing or invalid authorization scheme. Please use Klaviyo-API-Key.",
            )
        scheme, _, key = header.strip().partition(" ")
        if scheme != "Klaviyo-API-Key" or not hmac.compare_digest(
            key.strip().encode(), self.api_key.encode()
        ):
            return ApiError(
                401,
                "authentication_failed",
                "Incorrect authentication credentials.",
                "Incorrect authentication credentials.",
            )
        revision = request.headers.get("revision")
        if not revision:
            return ApiError(
                400,
                "invalid",
                "Invalid input.",
                "The revision header is required (format YYYY-MM-DD).",
                parameter="revision",
            )
        found = _REVISION.match(revision.strip())
        try:
            day = date.fromisoformat(found.group(1)) if found else None
        except ValueError:
            day = None
        if day is None:
            return ApiError(
                400,
                "invalid",
                "Invalid input.",
                f"The revision header must be YYYY-MM-DD[.suffix], got {revision[:40]!r}.",
                parameter="revision",
            )
        if day > date.fromisoformat(self.revision):
            return ApiError(
                400,
                "invalid",
                "Invalid input.",
                f"Unknown revision {revision[:40]!r}; the sandbox implements {self.revision}.",
                parameter="revision",
            )
        return None

    async def _process(
        self, request: Request, operation: Operation, path_params: Mapping[str, str]
    ) -> Response:
        raw = b""
        if operation.body_schema is not None:
            cap = BODY_LIMITS.get(operation.operation_id, DEFAULT_MAX_BODY)
            body = await _read_body(request, cap)
            if body is None:
                return self._error(
                    ApiError(
                        413,
                        "payload_too_large",
                        "Payload too large.",
                        f"The request body is larger than {cap // KB:,}KB.",
                    )
                )
            media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
            if media_type not in operation.body_media_types:
                return self._error(
                    ApiError(
                        415,
                        "unsupported_media_type",
                        f'Unsupported media type "{media_type}" in request.',
                        f"Send the body as {', '.join(operation.body_media_types)}.",
                    )
                )
            raw = body
        else:
            await _drain(request)
        query = request.query_params.multi_items()
        violations = self.spec.validate_query(operation, query)
        if violations:
            first = violations[0]
            return self._error(
                ApiError(400, "invalid", "Invalid input.", first.message, parameter=first.parameter)
            )
        base = str(request.base_url).rstrip("/")
        reply = await run_in_threadpool(
            self._handle, operation, path_params, dict(query), raw, base, request.url
        )
        if isinstance(reply, ApiError):
            return self._error(reply)
        if reply.document is None:
            return Response(status_code=reply.status)
        return JSONResponse(reply.document, status_code=reply.status, media_type=CONTENT_TYPE)

    def _handle(
        self,
        operation: Operation,
        path_params: Mapping[str, str],
        query: Mapping[str, str],
        raw: bytes,
        base: str,
        url: URL,
    ) -> Reply | ApiError:
        """Parse and validate the body, then run the handler (on a worker thread: validating a
        10,000-profile job takes long enough that the event loop must stay free)."""
        body: Any = None
        try:
            if operation.body_schema is not None:
                try:
                    body = json.loads(raw)
                except ValueError:
                    raise ApiError(
                        400, "parse_error", "Malformed request.", "The body is not valid JSON."
                    ) from None
                violations = self.spec.validate_body(operation, body)
                if violations:
                    first = violations[0]
                    raise ApiError(
                        400, "invalid", "Invalid input.", first.message, pointer=first.pointer
                    )
            call = Call(operation, path_params, query, body, base, url)
            with self.state.lock:
                self.state.advance_jobs()
                return HANDLERS[operation.operation_id](self.state, call)
        except ApiError as error:
            return error

    def _error(self, error: ApiError) -> Response:
        return JSONResponse(
            {"errors": [error_object(error, self._error_ids.uuid())]},
            status_code=error.status,
            media_type=CONTENT_TYPE,
        )

    def _fault_body(self, status: int, kind: FaultKind) -> tuple[bytes, str]:
        errors = {
            429: ApiError(429, "throttled", "Request was throttled.", "Request was throttled."),
            500: ApiError(500, "error", "A server error occurred.", "A server error occurred."),
            503: ApiError(
                503,
                "service_unavailable",
                "Service temporarily unavailable.",
                "Service temporarily unavailable, try again later.",
            ),
        }
        document = {"errors": [error_object(errors[status], self._error_ids.uuid())]}
        return json.dumps(document).encode(), CONTENT_TYPE


def _rate_headers(decision: Decision) -> dict[str, str]:
    """Klaviyo reports the steady window in RateLimit-Limit/-Remaining/-Reset."""
    window = decision.window("steady") or max(decision.windows, key=lambda w: w.limit.window)
    return {
        "RateLimit-Limit": str(window.limit.count),
        "RateLimit-Remaining": str(window.remaining),
        "RateLimit-Reset": str(max(1, math.ceil(window.reset_in))),
    }


def _is_api(scope: Scope) -> bool:
    return not str(scope.get("path", "")).startswith(SANDBOX_PREFIX)


async def _read_body(request: Request, cap: int) -> bytes | None:
    """The body, or None when it exceeds `cap` bytes (read to the end either way, so the
    connection stays usable for the answer)."""
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size <= cap:
            chunks.append(chunk)
    return b"".join(chunks) if size <= cap else None


async def _drain(request: Request) -> None:
    async for _ in request.stream():
        pass
