"""The one place cohortflow builds an `httpx.Client`: pacing, retries, error classes and redaction
live here so every destination gets them the same way and none re-implements them.

One `HttpClient` holds one `httpx.Client`, so connections are reused across batches and threads.
Each attempt (retries included) first takes a slot from the rate limiter, so retries spend quota
like any request. Logs and errors name the method and URL path only: query strings can hold emails
and tokens, bodies hold customer data, headers hold keys. httpx's own request log line carries the
full URL, so while a client is open its filter rewrites those lines the same way.
"""

from __future__ import annotations

import json as jsonlib
import logging
import re
import threading
import time
import weakref
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any
from urllib.parse import quote

import httpx

from activations.http.errors import (
    AuthError,
    ClientError,
    PermanentError,
    RateLimited,
    RetryableError,
    ServerError,
    TransportFailure,
)
from activations.http.ratelimit import RateLimit, RateLimiter
from activations.http.retry import RetryPolicy, parse_retry_after
from activations.http.timescale import check_scale
from activations.http.timescale import time_scale as env_time_scale

logger = logging.getLogger("activations.http")

DEFAULT_RETRY = RetryPolicy()
RETRYABLE_SERVER_STATUSES = frozenset({500, 502, 503, 504})
# The key itself is refused: raised as `AuthError`, which stops the whole destination.
AUTH_STATUSES = frozenset({401, 403})
# 503 says the server did not take the request on; 500/502/504 may come after it acted.
UNPROCESSED_SERVER_STATUSES = frozenset({503})
# Failures raised before any byte of the request left: always safe to resend.
NOT_SENT_ERRORS: tuple[type[Exception], ...] = (
    httpx.ConnectError,
    httpx.ConnectTimeout,
    httpx.PoolTimeout,
    httpx.ProxyError,
)
# The request itself cannot be sent (bad scheme, illegal header): resending cannot help.
UNSENDABLE_ERRORS: tuple[type[Exception], ...] = (
    httpx.UnsupportedProtocol,
    httpx.LocalProtocolError,
)
TRANSPORT_ERRORS: tuple[type[Exception], ...] = (httpx.TransportError, httpx.DecodingError)

_SECRET_HEADER = re.compile(r"auth|api[-_]?key|token|secret|password|cookie|signature", re.I)
_REDACTED_LOGGERS = ("httpx", "httpcore.connection", "httpcore.http11", "httpcore.http2")
_NO_HEADERS: Mapping[str, str] = MappingProxyType({})
_MASK = "***"


@dataclass
class ClientStats:
    """What one client did, for run reports. Counts are per HTTP attempt, not per call."""

    requests: int = 0
    retries: int = 0
    rate_limited: int = 0
    server_errors: int = 0
    transport_failures: int = 0
    limiter_wait_seconds: float = 0.0
    retry_wait_seconds: float = 0.0
    by_operation: dict[str, int] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        """A plain copy for reports and Dagster metadata."""
        return {
            "requests": self.requests,
            "retries": self.retries,
            "rate_limited": self.rate_limited,
            "server_errors": self.server_errors,
            "transport_failures": self.transport_failures,
            "limiter_wait_seconds": round(self.limiter_wait_seconds, 6),
            "retry_wait_seconds": round(self.retry_wait_seconds, 6),
            "by_operation": dict(sorted(self.by_operation.items())),
        }


class _Redactor:
    """Replaces each secret (raw and percent-encoded) with *** in a string."""

    def __init__(self, secrets: Iterable[str]) -> None:
        self._secrets: list[str] = []
        self.add(secrets)

    def add(self, secrets: Iterable[str]) -> None:
        variants = {form for secret in secrets if secret for form in (secret, quote(secret, ""))}
        self._secrets = sorted({*self._secrets, *variants}, key=len, reverse=True)

    def __call__(self, text: str) -> str:
        for secret in self._secrets:
            text = text.replace(secret, _MASK)
        return text


def _header_secrets(headers: Mapping[str, str]) -> list[str]:
    """Values of credential-like headers, plus the credential after an auth scheme."""
    found: list[str] = []
    for name, value in headers.items():
        if _SECRET_HEADER.search(name) and value:
            found.append(value)
            found.extend(part for part in value.split()[1:] if len(part) >= 8)
    return found


def _url_for_log(url: httpx.URL) -> str:
    """Scheme, host, port and path: no user info, no query string, no fragment."""
    port = f":{url.port}" if url.port is not None else ""
    return f"{url.scheme}://{url.host}{port}{url.path}"


class _LogRedactor(logging.Filter):
    """Rewrites httpx/httpcore log records: URLs lose their query, secrets become ***."""

    def __init__(self, redact: _Redactor) -> None:
        super().__init__()
        self._redact = redact

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(
                _url_for_log(arg) if isinstance(arg, httpx.URL) else arg for arg in record.args
            )
        try:
            message = record.getMessage()
        except (TypeError, ValueError):
            return True
        record.msg, record.args = self._redact(message), None
        return True


def _detach(redactor: _LogRedactor) -> None:
    for name in _REDACTED_LOGGERS:
        logging.getLogger(name).removeFilter(redactor)


def _vendor_errors(response: httpx.Response) -> tuple[tuple[str, ...], list[dict[str, Any]]]:
    """Codes and error objects from Klaviyo JSON:API, Omnisend RFC 7807 or Twilio bodies."""
    try:
        body = response.json()
    except ValueError:
        return (), []
    if not isinstance(body, dict):
        return (), []
    listed = body.get("errors")
    if isinstance(listed, list) and listed:
        errors = [item for item in listed if isinstance(item, dict)]
    else:
        errors = [body]
    codes = tuple(str(item["code"]) for item in errors if isinstance(item.get("code"), str | int))
    return codes, errors


def _retry_after(response: httpx.Response) -> float | None:
    """Retry-After header; failing that, Omnisend's `retryAfter` in a 429 problem body."""
    from_header = parse_retry_after(response.headers.get("retry-after"))
    if from_header is not None or response.status_code != 429:
        return from_header
    try:
        body = response.json()
    except ValueError:
        return None
    value = body.get("retryAfter") if isinstance(body, dict) else None
    if isinstance(value, int | float) and not isinstance(value, bool) and value >= 0:
        return float(value)
    return None


class HttpClient:
    """A paced, retrying, redacting HTTP client for one vendor base URL.

    Args:
        base_url: scheme, host and optional path prefix; request paths are appended to it.
        headers: sent with every request (auth, API revision, content type).
        secrets: strings that must never appear in logs, errors or repr (credential-like header
            values are added automatically).
        account: vendor account the rate-limit buckets belong to.
        timeout: seconds for connect, read, write and pool waits (wall seconds).
        retry: the retry policy.
        limiter: shared rate limiter; by default the client makes its own (real clock).
        time_scale: API seconds per wall second; None reads COHORTFLOW_TIME_SCALE.
        transport: httpx transport seam for tests (`httpx.MockTransport`).
        sleep: how retry waits are slept (wall seconds).
    """

    def __init__(
        self,
        base_url: str,
        *,
        headers: Mapping[str, str] = _NO_HEADERS,
        secrets: Sequence[str] = (),
        account: str = "",
        timeout: float = 30.0,
        retry: RetryPolicy = DEFAULT_RETRY,
        limiter: RateLimiter | None = None,
        time_scale: float | None = None,
        transport: httpx.BaseTransport | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.time_scale = env_time_scale() if time_scale is None else check_scale(time_scale)
        self.account = account
        self.retry = retry
        self.limiter = RateLimiter(self.time_scale) if limiter is None else limiter
        self.stats = ClientStats()
        self._sleep = sleep
        self._stats_lock = threading.Lock()
        self._redact = _Redactor([*secrets, *_header_secrets(headers)])
        self._client = httpx.Client(
            base_url=base_url,
            headers=dict(headers),
            timeout=httpx.Timeout(timeout),
            transport=transport,
            follow_redirects=False,
        )
        self._host = self._client.base_url.host
        self._log_filter = _LogRedactor(self._redact)
        for name in _REDACTED_LOGGERS:
            logging.getLogger(name).addFilter(self._log_filter)
        self._finalizer = weakref.finalize(self, _detach, self._log_filter)

    def __repr__(self) -> str:
        return f"HttpClient(host={self._redact(self._host)!r})"

    def __enter__(self) -> HttpClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def redact_also(self, secrets: Iterable[str]) -> None:
        """Keep `secrets` out of logs and errors too: values learnt after the client was built
        (a webhook's per-segment URL path, which often carries the receiver's token)."""
        self._redact.add(secrets)

    def close(self) -> None:
        """Close pooled connections and stop filtering httpx logs for this client."""
        self._client.close()
        self._finalizer()

    def request(
        self,
        method: str,
        path: str,
        *,
        limit: RateLimit | Sequence[RateLimit] | None = None,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
        content: bytes | None = None,
        headers: Mapping[str, str] | None = None,
        retry_on_timeout: bool = True,
        expected: Collection[int] | None = None,
        attempt_headers: Callable[[bytes], Mapping[str, str]] | None = None,
    ) -> httpx.Response:
        """Send one request, pacing and retrying it, and return the vendor's answer.

        Args:
            method: HTTP method.
            path: path relative to the base URL (may carry a query string).
            limit: the endpoint's rate limit, or several when it counts against more than one
                (Omnisend's tag calls: their own 60/min and the brand's 400/min); every attempt
                waits for a slot in each bucket, and a 429 holds all of them.
            params: query parameters.
            json: body to serialise as compact JSON (keeps the caller's Content-Type, else
                application/json).
            content: raw body bytes (exclusive with `json`).
            headers: extra headers for this request.
            retry_on_timeout: False for non-idempotent sends (an SMS): a failure after which the
                server may have acted (read timeout, dropped connection, 500/502/504) is raised at
                once with `maybe_sent=True` instead of being resent. Connect failures, 429 and 503
                are still retried.
            expected: non-2xx statuses to return instead of raising (e.g. {409} to inspect it).
            attempt_headers: headers computed from the body again for every attempt (a
                webhook's signature covers its send time, so a retry after a long wait is
                signed afresh rather than arriving with a stale timestamp).

        Returns:
            The response: 2xx, or a status listed in `expected`.

        Raises:
            RetryableError: RateLimited, ServerError or TransportFailure once attempts run out,
                the server asks to wait longer than the policy allows, or a maybe-sent failure
                is not retried.
            ClientError: a 4xx other than 429 (never retried).
            PermanentError: any other unexpected status, or a request that cannot be sent.
            ValueError: both `json` and `content` given.
        """
        request = self._build(method, path, params, json, content, headers)
        display = self._redact(request.url.path)
        limits = (limit,) if isinstance(limit, RateLimit) else tuple(limit or ())
        operation = limits[0].name if limits else f"{request.method} {display}"
        attempt = 0
        while True:
            attempt += 1
            for bucket in limits:
                waited = self.limiter.acquire(bucket, self.account)
                self._count(limiter_wait_seconds=waited)
            self._count(requests=1, operation=operation)
            if attempt_headers is not None:
                request.headers.update(attempt_headers(request.content))
            outcome = self._attempt(request, display, attempt, retry_on_timeout, expected)
            if isinstance(outcome, httpx.Response):
                return outcome
            error, cause = outcome
            wait = self._wait_before_retry(error, attempt)
            if wait is None:
                raise error from cause
            if isinstance(error, RateLimited):
                hold = wait if error.retry_after is None else error.retry_after / self.time_scale
                for bucket in limits:
                    self.limiter.penalise(bucket, self.account, hold)
            logger.debug(
                "%s %s: retrying in %.3fs (attempt %d of %d)",
                request.method,
                display,
                wait,
                attempt + 1,
                self.retry.max_attempts,
            )
            self._count(retries=1, retry_wait_seconds=wait)
            self._sleep(wait)

    def _build(
        self,
        method: str,
        path: str,
        params: Mapping[str, Any] | None,
        json: Any,
        content: bytes | None,
        headers: Mapping[str, str] | None,
    ) -> httpx.Request:
        if json is not None and content is not None:
            raise ValueError("pass either json or content, not both")
        extra = httpx.Headers(headers or {})
        if json is not None:
            content = jsonlib.dumps(
                json, separators=(",", ":"), ensure_ascii=False, allow_nan=False
            ).encode()
            if "content-type" not in extra and "content-type" not in self._client.headers:
                extra["content-type"] = "application/json"
        try:
            return self._client.build_request(
                method, path, params=params, content=content, headers=extra
            )
        except httpx.InvalidURL:
            raise PermanentError(method, "<invalid URL>", reason="InvalidURL") from None

    def _attempt(
        self,
        request: httpx.Request,
        display: str,
        attempt: int,
        retry_on_timeout: bool,
        expected: Collection[int] | None,
    ) -> httpx.Response | tuple[RetryableError, BaseException | None]:
        """One send: the response to return, or the retryable error with its cause. Raises
        errors that must not be retried."""
        method = request.method
        started = time.monotonic()
        try:
            response = self._client.send(request)
        except UNSENDABLE_ERRORS as exc:
            self._log(method, display, type(exc).__name__, started, attempt)
            raise PermanentError(method, display, reason=type(exc).__name__) from None
        except TRANSPORT_ERRORS as exc:
            self._log(method, display, type(exc).__name__, started, attempt)
            self._count(transport_failures=1)
            maybe_sent = not isinstance(exc, NOT_SENT_ERRORS)
            failure = TransportFailure(
                method,
                display,
                reason=type(exc).__name__,
                attempts=attempt,
                maybe_sent=maybe_sent and not retry_on_timeout,
            )
            if failure.maybe_sent:
                raise failure from exc
            return failure, exc
        status = response.status_code
        self._log(method, display, str(status), started, attempt)
        if 200 <= status < 300 or (expected is not None and status in expected):
            return response
        if status == 429:
            self._count(rate_limited=1)
            limited = RateLimited(
                method, display, status, attempts=attempt, retry_after=_retry_after(response)
            )
            return limited, None
        if status >= 500:
            self._count(server_errors=1)
        if status in RETRYABLE_SERVER_STATUSES:
            maybe_sent = not retry_on_timeout and status not in UNPROCESSED_SERVER_STATUSES
            server_error = ServerError(
                method,
                display,
                status,
                attempts=attempt,
                retry_after=_retry_after(response),
                maybe_sent=maybe_sent,
            )
            if maybe_sent:
                raise server_error
            return server_error, None
        if 400 <= status < 500:
            codes, errors = _vendor_errors(response)
            rejected = AuthError if status in AUTH_STATUSES else ClientError
            raise rejected(method, display, status, codes=codes, errors=errors)
        raise PermanentError(method, display, status)

    def _wait_before_retry(self, error: RetryableError, attempt: int) -> float | None:
        """Wall seconds to sleep before the next attempt, or None to give up."""
        if attempt >= self.retry.max_attempts:
            return None
        delay = self.retry.delay(attempt, error.retry_after)
        return None if delay is None else delay / self.time_scale

    def _log(self, method: str, display: str, outcome: str, started: float, attempt: int) -> None:
        logger.debug(
            "%s %s -> %s in %.3fs (attempt %d of %d)",
            method,
            display,
            outcome,
            time.monotonic() - started,
            attempt,
            self.retry.max_attempts,
        )

    def _count(
        self,
        *,
        operation: str | None = None,
        **increments: float,
    ) -> None:
        with self._stats_lock:
            for name, amount in increments.items():
                setattr(self.stats, name, getattr(self.stats, name) + amount)
            if operation is not None:
                by_operation = self.stats.by_operation
                by_operation[operation] = by_operation.get(operation, 0) + 1
