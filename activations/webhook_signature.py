"""Signing webhook deliveries, and checking a signature the way a receiver should.

The scheme is Stripe's, which Svix's "Standard Webhooks" also follow in substance: the sender
signs `"{timestamp}.{raw body}"` with HMAC-SHA256 under a secret shared with the receiver, and
sends the timestamp with the signature in one header:

    Cohortflow-Signature: t=1733350000,v1=5257a869e7ecebeda32affa62cdca3fa51cad7e77a0e56ff53...

Why the timestamp is inside the signed bytes: a body alone can be replayed by anyone who saw one
delivery; a signed timestamp lets the receiver refuse deliveries older than a few minutes, and
nobody can refresh it without the secret. Why the raw body: a receiver that parses and
re-serialises JSON before checking gets different bytes and a mismatch; the docs' snippet says so.

A receiver may see several `v1=` entries (the sender signs with each secret while one is being
rotated): any one of them matching is enough. The sandbox receiver and the tests use `verify`;
`docs/destinations/webhook.md` has the same check as a standalone snippet for partners.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import time
from collections.abc import Sequence
from typing import Literal

SIGNATURE_HEADER = "Cohortflow-Signature"
BATCH_ID_HEADER = "Cohortflow-Batch-Id"
# How far a delivery's timestamp may be from the receiver's clock (Stripe's default).
DEFAULT_TOLERANCE_SECONDS = 300
# ASCII only: `str.isdigit` accepts "²", and a huge number overflows the clock arithmetic.
_UNIX_SECONDS = re.compile(r"[0-9]{1,12}")
_HEX_DIGEST = re.compile(r"[0-9a-f]{64}")


RefusalKind = Literal["missing", "malformed", "stale", "mismatch"]


class SignatureError(ValueError):
    """A delivery whose signature header is missing, malformed, stale or does not match
    (`kind`, for a receiver's counters; the message says it in words)."""

    def __init__(self, kind: RefusalKind, message: str) -> None:
        super().__init__(message)
        self.kind: RefusalKind = kind


def signature(secret: str, timestamp: int, body: bytes) -> str:
    """The hex HMAC-SHA256 of `"{timestamp}.{body}"` under `secret`."""
    signed = str(timestamp).encode() + b"." + body
    return hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()


def signature_header(secrets: Sequence[str], timestamp: int, body: bytes) -> str:
    """The `Cohortflow-Signature` value for `body` sent at `timestamp` (Unix seconds), signed
    with every secret in `secrets` (two while one is being rotated)."""
    if not secrets:
        raise ValueError("a webhook delivery needs at least one signing secret")
    return ",".join([f"t={timestamp}", *(f"v1={signature(s, timestamp, body)}" for s in secrets)])


def verify(
    secret: str,
    header: str | None,
    body: bytes,
    *,
    now: float | None = None,
    tolerance_seconds: int = DEFAULT_TOLERANCE_SECONDS,
) -> int:
    """Check one delivery as a receiver should, and return its timestamp.

    Raises:
        SignatureError: the header is missing or malformed, its timestamp is more than
            `tolerance_seconds` from `now` (a replay, or a clock far off), or no `v1`
            signature matches `body` under `secret`.
    """
    if not header:
        raise SignatureError("missing", f"no {SIGNATURE_HEADER} header")
    stamps: list[str] = []
    candidates: list[str] = []
    for part in header.split(","):
        name, _, value = part.strip().partition("=")
        if name == "t":
            stamps.append(value)
        elif name == "v1" and _HEX_DIGEST.fullmatch(value):
            candidates.append(value)
    if len(stamps) != 1 or not _UNIX_SECONDS.fullmatch(stamps[0]) or not candidates:
        raise SignatureError(
            "malformed",
            f"malformed {SIGNATURE_HEADER} header: expected one t=<unix seconds> and "
            "v1=<hex HMAC-SHA256> entries",
        )
    timestamp = int(stamps[0])
    clock = time.time() if now is None else now
    if abs(clock - timestamp) > tolerance_seconds:
        raise SignatureError(
            "stale",
            f"timestamp {timestamp} is {abs(clock - timestamp):.0f} s from now, more than the "
            f"{tolerance_seconds} s allowed (a replayed or delayed delivery)",
        )
    expected = signature(secret, timestamp, body)
    if not any(hmac.compare_digest(expected, candidate) for candidate in candidates):
        raise SignatureError("mismatch", "signature does not match the body")
    return timestamp
