"""The shared HTTP layer of every destination: one paced, retrying, redacting client per vendor."""

from __future__ import annotations

from activations.http.client import ClientStats, HttpClient
from activations.http.errors import (
    AuthError,
    ClientError,
    HttpError,
    PermanentError,
    RateLimited,
    RetryableError,
    ServerError,
    TransportFailure,
)
from activations.http.ratelimit import RateLimit, RateLimiter
from activations.http.retry import RetryPolicy
from activations.http.timescale import time_scale

__all__ = [
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
