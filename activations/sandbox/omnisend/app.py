"""The sandbox's ASGI app: `OmnisendSandbox` authenticates, rate-limits, validates and dispatches.

Each request passes, in order: route match over the three documents (404/405), API key (401),
`Omnisend-Version` (400 missing or unknown, 410 retired), the brand's sliding-window limits
(429 RateLimitProblem), media type and body/query validation against the spec (400
ValidationProblem naming the field); only then does its handler run. `/__sandbox__/state` is
outside the API.
"""

from __future__ import annotations

import hmac
import json
import time
import uuid
from collections.abc import Callable, Mapping
from datetime import date
from typing import Any

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
from activations.sandbox.limits import ApiClock, Limit, SlidingWindowLimiter
from activations.sandbox.omnisend.handlers import (
    HANDLERS,
    Call,
    record_event,
    upsert_contact,
)
from activations.sandbox.omnisend.problems import Problem, validation_problem
from activations.sandbox.omnisend.spec import (
    API_VERSION,
    BRAND_PER_MINUTE,
    DOCUMENTS,
    TAG_OPERATIONS,
    TAGS_PER_MINUTE,
)
from activations.sandbox.omnisend.state import OmnisendState
from activations.sandbox.openapi import ApiSpec, Match, MethodNotAllowed, Operation, RouteNotFound

SANDBOX_PREFIX = "/__sandbox__/"
API_PREFIX = "/api"
BRAND_LIMIT = Limit("brand", BRAND_PER_MINUTE, 60.0)
TAGS_LIMIT = Limit("tags", TAGS_PER_MINUTE, 60.0)


class OmnisendSandbox(FaultControls):
    """The Omnisend sandbox: `app` is the ASGI application, `state` what the brand holds.

    Serves under `/api` (the documents' server URL is `https://api.omnisend.com/api`), so a
    client's base URL is `http://127.0.0.1:PORT/api`.

    Args:
        api_key: the one key accepted (`Authorization: Omnisend-API-Key <key>`).
        faults: fault injection settings; `partial_job_rate` fails batch items with a 503.
        time_scale: API seconds per wall second for rate-limit windows and async delays.
        seed: seeds ids and fault choices.
        batch_seconds: API seconds before a batch is finished.
        tag_seconds: API seconds before an accepted tag change is applied.
        clock: the wall clock (monotonic seconds), injectable for exact rate-limit tests.
    """

    def __init__(
        self,
        api_key: str,
        *,
        faults: Faults | None = None,
        time_scale: float = 1.0,
        seed: int = 0,
        batch_seconds: float = 5.0,
        tag_seconds: float = 5.0,
        clock: Callable[[], float] | None = None,
    ) -> None:
        if not api_key:
            raise ValueError("the Omnisend sandbox needs an api_key to accept")
        self.api_key = api_key
        self.specs: dict[str, ApiSpec] = {}
        for name, (operations, path) in DOCUMENTS.items():
            spec = ApiSpec.load(path)
            missing = [op for op in operations if op not in spec.operations]
            if missing:
                raise ValueError(f"{path.name} lacks {missing}: regenerate it (extract_spec)")
            self.specs[name] = spec
        self.clock = ApiClock(time_scale, monotonic=clock or time.monotonic)
        self.limiter = SlidingWindowLimiter(self.clock)
        self._picker = FaultPicker(faults or Faults(), seed)
        self.state = OmnisendState(
            self.clock,
            seed,
            batch_seconds=batch_seconds,
            tag_seconds=tag_seconds,
            item_fails=self._picker.row_fails,
        )
        self.state.apply_item = self._apply_item
        methods = ["GET", "POST", "PUT", "PATCH", "DELETE"]
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
            error_body=_fault_body,
            on_fault=fault_counter(self.state),
        )

    @property
    def version(self) -> str:
        """The API version the sandbox implements."""
        return API_VERSION

    async def _sandbox_state(self, request: Request) -> Response:
        return JSONResponse(self.state.summary())

    async def _api(self, request: Request) -> Response:
        body = await request.body()
        try:
            return self._serve(request, body)
        except Problem as problem:
            return problem_response(problem)

    def _serve(self, request: Request, raw: bytes) -> Response:
        with self.state.lock:
            self.state.requests += 1
        match, spec = self._match(request)
        self._authenticate(request)
        self._check_version(request)
        limits = [BRAND_LIMIT]
        if match.operation.operation_id in TAG_OPERATIONS:
            limits.append(TAGS_LIMIT)
        decision = self.limiter.acquire(self.api_key, limits)
        if not decision.allowed:
            raise Problem(
                429,
                f"Rate limit exceeded; retry in {decision.retry_after} seconds.",
                retry_after=decision.retry_after,
            )
        operation = match.operation
        violations = spec.validate_query(operation, request.query_params.multi_items())
        if violations:
            raise validation_problem(violations)
        body: Any = None
        if operation.body_schema is not None:
            media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
            if media_type not in operation.body_media_types:
                raise Problem(415, f"Send the body as {', '.join(operation.body_media_types)}.")
            try:
                body = json.loads(raw)
            except ValueError:
                raise Problem(400, "The body is not valid JSON.") from None
            violations = spec.validate_body(operation, body)
            if violations:
                raise validation_problem(violations)
        call = Call(match.path_params, dict(request.query_params), body)
        with self.state.lock:
            self.state.advance()
            reply = HANDLERS[operation.operation_id](self.state, call)
        if reply.document is None:
            return Response(status_code=reply.status)
        return JSONResponse(reply.document, status_code=reply.status)

    def _match(self, request: Request) -> tuple[Match, ApiSpec]:
        path = request.url.path
        if not path.startswith(API_PREFIX + "/"):
            raise Problem(404, f"No such endpoint: {request.method} {path}.")
        allowed: list[str] = []
        for spec in self.specs.values():
            try:
                return spec.match(request.method, path[len(API_PREFIX) :]), spec
            except RouteNotFound:
                continue
            except MethodNotAllowed as error:
                allowed.extend(error.allowed)
        if allowed:
            raise Problem(405, f"Method {request.method} not allowed; use {', '.join(allowed)}.")
        raise Problem(404, f"No such endpoint: {request.method} {path}.")

    def _authenticate(self, request: Request) -> None:
        header = request.headers.get("authorization", "")
        scheme, _, key = header.strip().partition(" ")
        if scheme != "Omnisend-API-Key" or not hmac.compare_digest(
            key.strip().encode(), self.api_key.encode()
        ):
            detail = "Incorrect API key." if header else "Authentication is missing."
            raise Problem(401, f"{detail} Use 'Authorization: Omnisend-API-Key <key>'.")

    def _check_version(self, request: Request) -> None:
        version = request.headers.get("omnisend-version", "").strip()
        if not version:
            raise Problem(400, f"The Omnisend-Version header is required ({API_VERSION}).")
        if version == API_VERSION:
            return
        try:
            retired = date.fromisoformat(version) < date.fromisoformat(API_VERSION)
        except ValueError:
            retired = False
        if retired:
            raise Problem(410, f"API version {version} has been retired; use {API_VERSION}.")
        raise Problem(400, f"Unknown API version {version[:40]!r}; use {API_VERSION}.")

    def _apply_item(self, endpoint: str, method: str, item: Any) -> tuple[int, Any]:
        """One batch item, as the single-item route would answer it (state lock held)."""
        operation_id, spec = (
            ("POST /contacts", self.specs["contacts"])
            if endpoint == "contacts"
            else ("POST /events", self.specs["events"])
        )
        operation: Operation = spec.operations[operation_id]
        try:
            violations = spec.validate_body(operation, item)
            if violations:
                raise validation_problem(violations)
            if endpoint == "events":
                record_event(self.state, item)
                return 202, None
            if method == "PUT" and _existing(self.state, item) is None:
                raise Problem(404, "PUT updates existing contacts; no contact has these ids.")
            return upsert_contact(self.state, item)
        except Problem as problem:
            return problem.status, problem.document(_instance())


def problem_response(problem: Problem) -> Response:
    """The problem as a JSON response (Retry-After too on a 429)."""
    response = JSONResponse(problem.document(_instance()), status_code=problem.status)
    if problem.retry_after is not None:
        response.headers["Retry-After"] = str(problem.retry_after)
    return response


def _existing(state: OmnisendState, item: Mapping[str, Any]) -> object:
    identifiers = item.get("identifiers") or []
    email = next((i["id"] for i in identifiers if i.get("type") == "email"), None)
    phone = next((i["id"] for i in identifiers if i.get("type") == "phone"), None)
    return state.find(email, phone)


def _fault_body(status: int, kind: FaultKind) -> tuple[bytes, str]:
    problem = Problem(
        status,
        "Rate limit exceeded." if status == 429 else "The server failed; retry later.",
        retry_after=1 if status == 429 else None,
    )
    return json.dumps(problem.document(_instance())).encode(), "application/json"


def _instance() -> str:
    return f"urn:omnisend:request:{uuid.uuid4()}"


def _is_api(scope: Scope) -> bool:
    return not str(scope.get("path", "")).startswith(SANDBOX_PREFIX)
