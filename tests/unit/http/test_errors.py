"""Errors are classified by type and say one safe line: no bodies, no queries, no secrets."""

from __future__ import annotations

import pickle

import pytest

import activations.http as http
from activations.errors import CohortflowError
from activations.http import (
    ClientError,
    HttpError,
    PermanentError,
    RateLimited,
    RetryableError,
    ServerError,
    TransportFailure,
)


def test_the_public_surface_is_exactly_what_destinations_import() -> None:
    assert sorted(http.__all__) == sorted(
        [
            "AuthError",
            "ClientError",
            "ClientStats",
            "HttpClient",
            "HttpError",
            "PermanentError",
            "RateLimit",
            "RateLimited",
            "RateLimiter",
            "RetryPolicy",
            "RetryableError",
            "ServerError",
            "TransportFailure",
            "time_scale",
        ]
    )
    for name in http.__all__:
        assert getattr(http, name) is not None


@pytest.mark.parametrize(
    ("child", "parent"),
    [
        (HttpError, CohortflowError),
        (RetryableError, HttpError),
        (PermanentError, HttpError),
        (RateLimited, RetryableError),
        (ServerError, RetryableError),
        (TransportFailure, RetryableError),
        (ClientError, PermanentError),
    ],
)
def test_tree(child: type[Exception], parent: type[Exception]) -> None:
    assert issubclass(child, parent)


@pytest.mark.parametrize("retryable", [RateLimited, ServerError, TransportFailure])
def test_retryable_and_permanent_never_overlap(retryable: type[Exception]) -> None:
    assert not issubclass(retryable, PermanentError)
    assert not issubclass(ClientError, RetryableError)


def examples() -> list[HttpError]:
    return [
        RateLimited("post", "/api/events?email=jane@example.com", attempts=6, retry_after=2.0),
        ServerError("POST", "/api/lists/L1/relationships/profiles", 503, attempts=3),
        TransportFailure("POST", "/Messages.json", reason="ReadTimeout", maybe_sent=True),
        PermanentError("GET", "/api/lists", 301),
        PermanentError("GET", "/api/lists", reason="LocalProtocolError"),
        ClientError(
            "POST",
            "/api/profile-import",
            400,
            codes=("invalid", "invalid", "missing_field"),
            errors=[{"code": "invalid", "detail": "jane@example.com is not valid"}],
        ),
    ]


@pytest.mark.parametrize("error", examples(), ids=lambda e: type(e).__name__)
def test_messages_are_one_line_without_query_or_body(error: HttpError) -> None:
    message = str(error)
    assert "\n" not in message
    assert error.method in message
    assert error.path in message
    assert "?" not in message and "jane@example.com" not in message
    assert "jane@example.com" not in repr(error)


def test_messages_name_status_codes_and_attempts() -> None:
    limited, server, transport, redirect, unsendable, client = examples()
    assert str(limited).startswith("POST /api/events was rate limited (429) after 6 attempts")
    assert "2s" in str(limited)
    assert "503" in str(server) and "3 attempts" in str(server)
    assert "ReadTimeout" in str(transport) and "not resent" in str(transport)
    assert "301" in str(redirect)
    assert "LocalProtocolError" in str(unsendable)
    assert str(client) == (
        "POST /api/profile-import was rejected with 400 [invalid, missing_field]; "
        "fix the request; not retried"
    )
    assert isinstance(client, ClientError)
    assert client.codes == ("invalid", "invalid", "missing_field")
    assert client.errors[0]["detail"] == "jane@example.com is not valid"


def test_codes_that_are_not_identifiers_are_dropped() -> None:
    error = ClientError("POST", "/x", 400, codes=("ok_code", "jane@example.com has\nnewline"))
    assert error.codes == ("ok_code",)
    assert "jane" not in str(error)


def test_many_codes_are_summarised() -> None:
    error = ClientError("POST", "/x", 400, codes=tuple(f"c{i}" for i in range(8)))
    assert "c4, +3 more" in str(error)


def test_status_hints_name_the_next_step() -> None:
    assert "API key" in str(ClientError("GET", "/api/lists", 401))


@pytest.mark.parametrize("error", examples(), ids=lambda e: type(e).__name__)
def test_errors_survive_pickling(error: HttpError) -> None:
    copy = pickle.loads(pickle.dumps(error))
    assert type(copy) is type(error)
    assert str(copy) == str(error)
    assert copy.__dict__ == error.__dict__
