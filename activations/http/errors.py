"""The errors every destination sees from the shared HTTP layer, classified by type, never by text.

    CohortflowError
     └── HttpError               method, path (no query, no host), status
          ├── RetryableError     attempts, retry_after, maybe_sent: try the rows again later
          │    ├── RateLimited       429 (retry_after = the server's Retry-After, in API seconds)
          │    ├── ServerError       500, 502, 503, 504
          │    └── TransportFailure  timeouts, refused/reset/dropped connections, cut-off responses
          └── PermanentError     resending the same request will fail the same way
               └── ClientError       4xx other than 429: status, codes, errors (vendor's objects)
                    └── AuthError    401, 403: the credentials are refused for every call

A destination decides a row's fate from the class alone (dlt's terminal/transient split): retryable
rows stay in the plan, permanent ones are recorded with their vendor codes, and an `AuthError` stops
the whole destination (every later call would be refused too). `PermanentError` itself
is raised for answers that are neither 2xx nor 4xx (an unexpected redirect, 501) and for requests
that cannot be sent at all.

`str(error)` is one line naming the request, the outcome and the next step. It never holds a
response or request body, a header, a query string or a secret: vendor `detail` strings can quote
the customer's email, so they stay in `ClientError.errors`, out of messages and logs.
"""

from __future__ import annotations

import re
from typing import Any

from activations.errors import CohortflowError

_SAFE_CODE = re.compile(r"^[A-Za-z0-9_.:\-]{1,64}$")
_SHOWN_CODES = 5
_CLIENT_HINTS = {
    401: "check the API key",
    403: "check the API key's scopes",
    404: "the resource does not exist",
    409: "it conflicts with existing vendor data",
    410: "the API version is retired: update the version header",
    413: "the request is too large: send smaller batches",
}


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _path_only(path: str) -> str:
    """Drop query string and fragment: they can carry emails and tokens."""
    return _one_line(path.split("?", 1)[0].split("#", 1)[0]) or "/"


def _attempts(count: int) -> str:
    return f"{count} attempt" if count == 1 else f"{count} attempts"


def _restore(cls: type[HttpError], args: tuple[Any, ...], state: dict[str, Any]) -> HttpError:
    error = cls.__new__(cls)
    Exception.__init__(error, *args)
    error.__dict__.update(state)
    return error


class HttpError(CohortflowError):
    """An HTTP exchange with a vendor did not succeed.

    Attributes:
        method: HTTP method, upper case.
        path: URL path without host, query string or fragment.
        status: HTTP status received, or None when no response arrived.
    """

    def __init__(self, method: str, path: str, status: int | None = None) -> None:
        self.method = method.upper()
        self.path = _path_only(path)
        self.status = status
        super().__init__(self._describe())

    def _request(self) -> str:
        return f"{self.method} {self.path}"

    def _describe(self) -> str:
        outcome = "failed" if self.status is None else f"failed with {self.status}"
        return f"{self._request()} {outcome}"

    def __reduce__(self) -> tuple[Any, ...]:
        # Keyword-only constructors do not survive pickle's default (cls(*args)); Dagster may
        # pickle errors across processes.
        return (_restore, (type(self), self.args, dict(self.__dict__)))


class RetryableError(HttpError):
    """The request may succeed if sent again later; the rows stay pending.

    Attributes:
        attempts: HTTP attempts made before giving up.
        retry_after: seconds the server asked to wait (API seconds), if it said.
        maybe_sent: raised without a resend because the server may have acted on the request
            (only with `retry_on_timeout=False`): a non-idempotent caller such as an SMS send
            must not send it again blindly.
    """

    def __init__(
        self,
        method: str,
        path: str,
        status: int | None = None,
        *,
        attempts: int = 1,
        retry_after: float | None = None,
        maybe_sent: bool = False,
    ) -> None:
        self.attempts = attempts
        self.retry_after = retry_after
        self.maybe_sent = maybe_sent
        super().__init__(method, path, status)

    def _after(self) -> str:
        text = f" after {_attempts(self.attempts)}"
        if self.retry_after is not None:
            text += f" (server asked to wait {self.retry_after:g}s)"
        if self.maybe_sent:
            text += "; the server may have acted on it, so it was not resent"
        return text

    def _describe(self) -> str:
        return f"{super()._describe()}{self._after()}; retry later"


class RateLimited(RetryableError):
    """The vendor answered 429: too many requests for this account or endpoint."""

    def __init__(
        self,
        method: str,
        path: str,
        status: int | None = 429,
        *,
        attempts: int = 1,
        retry_after: float | None = None,
        maybe_sent: bool = False,
    ) -> None:
        super().__init__(
            method,
            path,
            status,
            attempts=attempts,
            retry_after=retry_after,
            maybe_sent=maybe_sent,
        )

    def _describe(self) -> str:
        return (
            f"{self._request()} was rate limited ({self.status}){self._after()}; "
            "lower the request rate or retry later"
        )


class ServerError(RetryableError):
    """The vendor answered 5xx: its side failed or is overloaded."""

    def _describe(self) -> str:
        return (
            f"{self._request()} failed with server error {self.status}{self._after()}; "
            "the vendor is failing, retry later"
        )


class TransportFailure(RetryableError):
    """No complete response arrived: timeout, refused, reset or dropped connection.

    Attributes:
        reason: the transport exception's class name, e.g. "ReadTimeout".
    """

    def __init__(
        self,
        method: str,
        path: str,
        *,
        reason: str,
        attempts: int = 1,
        maybe_sent: bool = False,
    ) -> None:
        self.reason = _one_line(reason)
        super().__init__(method, path, None, attempts=attempts, maybe_sent=maybe_sent)

    def _describe(self) -> str:
        return (
            f"{self._request()} got no response ({self.reason}){self._after()}; "
            "check the network and the vendor's status, then retry"
        )


class PermanentError(HttpError):
    """Sending the same request again cannot succeed; the rows are recorded as failed.

    Attributes:
        reason: a short fixed description when no status explains it (e.g. "LocalProtocolError").
    """

    def __init__(
        self, method: str, path: str, status: int | None = None, *, reason: str = ""
    ) -> None:
        self.reason = _one_line(reason)
        super().__init__(method, path, status)

    def _describe(self) -> str:
        if self.status is None:
            return f"{self._request()} could not be sent ({self.reason}); fix the request"
        return f"{super()._describe()}; not retried"


class ClientError(PermanentError):
    """The vendor rejected the request (4xx other than 429).

    Attributes:
        codes: the vendor's error codes, e.g. ("invalid",) from Klaviyo or ("21610",) from Twilio.
        errors: the vendor's error objects as parsed JSON, for the destination to inspect (they
            may hold customer data: never log them).
    """

    status: int

    def __init__(
        self,
        method: str,
        path: str,
        status: int,
        *,
        codes: tuple[str, ...] = (),
        errors: list[dict[str, Any]] | None = None,
    ) -> None:
        self.codes = tuple(code for code in codes if _SAFE_CODE.match(code))
        self.errors = [] if errors is None else errors
        super().__init__(method, path, status)

    def _describe(self) -> str:
        text = f"{self._request()} was rejected with {self.status}"
        if self.codes:
            unique = list(dict.fromkeys(self.codes))
            shown = ", ".join(unique[:_SHOWN_CODES])
            more = len(unique) - _SHOWN_CODES
            text += f" [{shown}{f', +{more} more' if more > 0 else ''}]"
        hint = _CLIENT_HINTS.get(self.status, "fix the request")
        return f"{text}; {hint}; not retried"


class AuthError(ClientError):
    """The vendor refused the API key (401) or its scopes (403). Unlike other rejections this is
    not about the rows: every later request with the same key fails the same way, so a
    destination stops instead of recording each row as failed."""
