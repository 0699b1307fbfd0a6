"""The sandbox's ASGI app: `TwilioSandbox` authenticates, throttles, validates and dispatches.

Each request passes, in order: route match over the spec subset (404 code 20404, 405 code
20004), HTTP Basic credentials `AccountSid:AuthToken` and the path's AccountSid (401 code 20003),
the account's send cap on CreateMessage (429 code 20429), then the form body and the known query
parameters checked against the spec (400, with Twilio's code for the fields where it documents
one); only then does its handler run. `GET /__sandbox__/state` and `POST /__sandbox__/inbound`
are outside the API: no credentials, never faulted.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import json
import re
import time
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
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
from activations.sandbox.openapi import (
    ApiSpec,
    Match,
    MethodNotAllowed,
    Operation,
    RouteNotFound,
    Violation,
)
from activations.sandbox.twilio.forms import parse_form
from activations.sandbox.twilio.handlers import HANDLERS, Call
from activations.sandbox.twilio.problems import TwilioError, twilio_error
from activations.sandbox.twilio.spec import OPERATIONS, SPEC_PATH
from activations.sandbox.twilio.state import (
    E164,
    LANDLINE,
    UNREACHABLE_HANDSET,
    DeliveryFailure,
    TwilioState,
)

SANDBOX_PREFIX = "/__sandbox__/"
# Twilio's magic "valid From" number for test credentials: obviously not a real sender.
DEFAULT_SENDER = "+15005550006"
# Twilio documents no rate: its 429 (code 20429) is about "too many concurrent requests". The
# sandbox caps CreateMessage per account in a sliding window of API time; unverified, so set it.
DEFAULT_SEND_LIMIT = Limit("messages", 100, 1.0)
# Spec constraints whose violation Twilio reports with a specific code (pointer -> code)
SCHEMA_CODES = {"/To": 21604, "/MessagingServiceSid": 21705}
FAULT_CODES = {429: 20429, 500: 20500, 503: 20503}


class TwilioSandbox(FaultControls):
    """The Twilio sandbox: `app` is the ASGI application, `state` what the account holds.

    Serves the spec's paths as they are (`/2010-04-01/Accounts/{AccountSid}/Messages.json`), so a
    client's base URL is `http://127.0.0.1:PORT` in place of `https://api.twilio.com`.

    Args:
        account_sid: the one account (`AC` and 32 hex digits, the spec's pattern).
        auth_token: its auth token, the Basic-auth password.
        senders: the account's phone numbers (E.164), all in its Messaging Service.
        messaging_service_sid: the account's Messaging Service (default: `MG` and the account's
            hex digits).
        faults: fault injection settings.
        time_scale: API seconds per wall second for the send cap and status changes.
        seed: seeds message sids and fault choices.
        sent_seconds: API seconds from creation until a message is "sent".
        delivered_seconds: API seconds from creation until it is "delivered".
        undelivered_numbers: recipients whose messages end "undelivered", error 30003.
        failed_numbers: recipients whose messages end "failed", error 30006.
        send_limit: at most `count` CreateMessage requests per `window` API seconds, sliding.
        clock: the wall clock (monotonic seconds), injectable so tests step time exactly.
        started: the UTC instant API second 0 is (default: now), for a test that simulates
            days of sends on its own calendar.
    """

    def __init__(
        self,
        account_sid: str,
        auth_token: str,
        *,
        senders: Sequence[str] = (DEFAULT_SENDER,),
        messaging_service_sid: str | None = None,
        faults: Faults | None = None,
        time_scale: float = 1.0,
        seed: int = 0,
        sent_seconds: float = 1.0,
        delivered_seconds: float = 3.0,
        undelivered_numbers: Iterable[str] = (),
        failed_numbers: Iterable[str] = (),
        send_limit: Limit = DEFAULT_SEND_LIMIT,
        clock: Callable[[], float] | None = None,
        started: datetime | None = None,
    ) -> None:
        self.spec = ApiSpec.load(SPEC_PATH)
        missing = [op for op in OPERATIONS if op not in self.spec.operations]
        if missing:
            raise ValueError(f"{SPEC_PATH.name} lacks {missing}: regenerate it (extract_spec)")
        service = messaging_service_sid or f"MG{account_sid[2:]}"
        self._check_settings(account_sid, auth_token, senders, service)
        if not 0 <= sent_seconds <= delivered_seconds:
            raise ValueError("need 0 <= sent_seconds <= delivered_seconds")
        self.account_sid = account_sid
        self.auth_token = auth_token
        self.send_limit = send_limit
        self.clock = ApiClock(time_scale, monotonic=clock or time.monotonic, started=started)
        self.limiter = SlidingWindowLimiter(self.clock)
        self._picker = FaultPicker(faults or Faults(), seed)
        self.state = TwilioState(
            self.clock,
            seed,
            account_sid=account_sid,
            senders=senders,
            messaging_service_sid=service,
            sent_seconds=sent_seconds,
            delivered_seconds=delivered_seconds,
            delivery_failures=_delivery_failures(undelivered_numbers, failed_numbers),
        )
        inner = Starlette(
            routes=[
                Route(f"{SANDBOX_PREFIX}state", self._sandbox_state, methods=["GET"]),
                Route(f"{SANDBOX_PREFIX}inbound", self._sandbox_inbound, methods=["POST"]),
                Route("/{path:path}", self._api, methods=["GET", "POST", "PUT", "PATCH", "DELETE"]),
            ]
        )
        self.app = FaultMiddleware(
            inner,
            self._picker,
            applies_to=_is_api,
            error_body=_fault_body,
            on_fault=fault_counter(self.state),
        )

    def _check_settings(
        self, account_sid: str, auth_token: str, senders: Sequence[str], service: str
    ) -> None:
        """Refuse an account the real API could not have, using the spec's own Sid patterns."""
        create = self.spec.operations["CreateMessage"]
        account = next(p for p in create.parameters if p.name == "AccountSid").schema["pattern"]
        if not re.match(account, account_sid):
            raise ValueError(f"account_sid must match {account}, got {account_sid!r}")
        if not auth_token:
            raise ValueError("the Twilio sandbox needs an auth_token to accept")
        if not senders or not all(E164.match(sender) for sender in senders):
            raise ValueError(f"senders must be E.164 phone numbers, got {senders!r}")
        assert create.body_schema is not None
        pattern = create.body_schema["properties"]["MessagingServiceSid"]["pattern"]
        if not re.match(pattern, service):
            raise ValueError(f"messaging_service_sid must match {pattern}, got {service!r}")

    async def _sandbox_state(self, request: Request) -> Response:
        return JSONResponse(self.state.summary())

    async def _sandbox_inbound(self, request: Request) -> Response:
        """A phone texts a sender: form fields `From`, `Body` and optionally `To`, as Twilio
        posts them to an incoming-message webhook."""
        try:
            form = parse_form(await request.body(), {})
            message = self.state.inbound(form.get("From", ""), form.get("Body", ""), form.get("To"))
        except (UnicodeDecodeError, ValueError) as error:
            return JSONResponse({"error": str(error)}, status_code=400)
        with self.state.lock:
            document = {
                "message": self.state.document(message),
                "opted_out": message.sender in self.state.opted_out,
            }
        return JSONResponse(document, status_code=201)

    async def _api(self, request: Request) -> Response:
        raw = await request.body()
        try:
            return self._serve(request, raw)
        except TwilioError as error:
            with self.state.lock:
                self.state.errors[error.code] += 1
            return error_response(error)

    def _serve(self, request: Request, raw: bytes) -> Response:
        match = self._match(request)
        operation = match.operation
        with self.state.lock:
            self.state.requests[operation.operation_id] += 1
        self._authenticate(request, match.path_params["AccountSid"])
        if operation.operation_id == "CreateMessage":
            self._throttle()
        call = Call(
            match.path_params,
            self._query(request, operation),
            self._form(request, operation, raw),
            request.url.path,
        )
        with self.state.lock:
            self.state.advance()
            reply = HANDLERS[operation.operation_id](self.state, call)
        return JSONResponse(reply.document, status_code=reply.status)

    def _match(self, request: Request) -> Match:
        path = request.url.path
        try:
            return self.spec.match(request.method, path)
        except RouteNotFound:
            raise twilio_error(20404, f"The requested resource {path} was not found") from None
        except MethodNotAllowed as error:
            raise twilio_error(
                20004, f"Method {request.method} not allowed on {path}: {', '.join(error.allowed)}"
            ) from None

    def _authenticate(self, request: Request, path_account: str) -> None:
        """Basic `AccountSid:AuthToken`; the path must name the same account. A path naming
        another account is a 20003 too: Twilio lists "Verify the correct Account is being
        accessed" among that error's solutions."""
        header = request.headers.get("authorization")
        if not header:
            raise twilio_error(20003, "Authentication Error - No credentials provided")
        expected = f"{self.account_sid}:{self.auth_token}".encode()
        if not hmac.compare_digest(_basic_credentials(header), expected):
            raise twilio_error(20003)
        if path_account != self.account_sid:
            raise twilio_error(20003)

    def _throttle(self) -> None:
        decision = self.limiter.acquire(self.account_sid, [self.send_limit])
        if not decision.allowed:
            raise twilio_error(20429, retry_after=decision.retry_after)

    def _query(self, request: Request, operation: Operation) -> dict[str, str]:
        """The operation's query parameters, checked; others are ignored, as Twilio ignores
        unknown parameters (its warning 20001)."""
        known = operation.query_parameters
        items = [(k, v) for k, v in request.query_params.multi_items() if k in known]
        violations = self.spec.validate_query(operation, items)
        if violations:
            raise _refusal(violations[0])
        return dict(items)

    def _form(self, request: Request, operation: Operation, raw: bytes) -> dict[str, Any]:
        """The form body typed and checked against the spec. Twilio reads parameters from a
        form only, so any other body (JSON) carries none, and lacks the first required one."""
        if operation.body_schema is None:
            return {}
        media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if media_type not in operation.body_media_types:
            raise twilio_error(
                21604,
                "A 'To' phone number is required: parameters are read from an "
                f"{' or '.join(operation.body_media_types)} body, "
                f"not {media_type or 'an untyped one'}.",
            )
        try:
            form = parse_form(raw, operation.body_schema)
        except UnicodeDecodeError:
            raise twilio_error(400, "The form body is not UTF-8.") from None
        violations = self.spec.validate_body(operation, form)
        if violations:
            raise _refusal(violations[0])
        return form


def error_response(error: TwilioError) -> Response:
    """The error as Twilio answers it (Retry-After on a 429, the Basic challenge on a 401)."""
    response = JSONResponse(error.document(), status_code=error.status)
    if error.retry_after is not None:
        response.headers["Retry-After"] = str(error.retry_after)
    if error.status == 401:
        response.headers["WWW-Authenticate"] = 'Basic realm="Twilio API"'
    return response


def _basic_credentials(header: str) -> bytes:
    """The decoded `user:password` of a Basic Authorization header (b"" if it is not one)."""
    scheme, _, encoded = header.strip().partition(" ")
    if scheme.lower() != "basic":
        return b""
    try:
        return base64.b64decode(encoded.strip(), validate=True)
    except binascii.Error:
        return b""


def _delivery_failures(
    undelivered: Iterable[str], failed: Iterable[str]
) -> dict[str, DeliveryFailure]:
    failures = {number: UNREACHABLE_HANDSET for number in undelivered}
    failed = set(failed)
    both = failures.keys() & failed
    if both:
        raise ValueError(f"a number cannot be both undelivered and failed: {sorted(both)}")
    return failures | {number: LANDLINE for number in failed}


def _refusal(violation: Violation) -> TwilioError:
    """A spec violation as Twilio's error: its specific code where it has one, else 400."""
    code = SCHEMA_CODES.get(violation.pointer or "")
    if code is not None:
        return twilio_error(code)
    name = violation.parameter or (violation.pointer or "/").lstrip("/")
    return twilio_error(400, f"Invalid parameter {name}: {violation.message}")


def _fault_body(status: int, kind: FaultKind) -> tuple[bytes, str]:
    return json.dumps(twilio_error(FAULT_CODES[status]).document()).encode(), "application/json"


def _is_api(scope: Scope) -> bool:
    return not str(scope.get("path", "")).startswith(SANDBOX_PREFIX)
