"""Fault injection for sandbox servers: the failures a client must survive, on a seeded schedule.

Why: a sync is only as safe as its handling of the bad days: throttling, server errors, slow
answers, and, worst, a connection lost after the vendor applied a request (the lost
acknowledgement, where a blind retry duplicates work). Each kind, as the client sees it:

    "429"          429 with Retry-After; nothing processed
    "500", "503"   that status; nothing processed
    "timeout"      processed at once, the answer held `timeout_seconds` wall seconds (a client
                   with a shorter timeout gives up not knowing the request was applied)
    "drop_before"  the connection is closed before the request is processed: no response at all
    "drop_after"   processed and applied, then the connection is closed without a response

Drops close the socket under uvicorn (reached through the server's `send`), so httpx raises
RemoteProtocolError ("Server disconnected without sending a response"). Under another ASGI
server the drop falls back to a response whose body stops short of its Content-Length.

`partial_job_rate` is read by vendor modules: that share of rows inside an asynchronous import
job fail with a retryable-looking error.
"""

from __future__ import annotations

import asyncio
import random
import threading
from collections import Counter
from collections.abc import Awaitable, Callable, MutableMapping
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Any, Literal, Protocol, get_args

FaultKind = Literal["429", "500", "503", "timeout", "drop_before", "drop_after"]
FAULT_KINDS: tuple[FaultKind, ...] = get_args(FaultKind)

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
AsgiApp = Callable[[Scope, Receive, Send], Awaitable[None]]
# (status, kind) -> (body, content type) in the vendor's error format
ErrorBody = Callable[[int, FaultKind], tuple[bytes, str]]


@dataclass(frozen=True)
class Faults:
    """Which failures to inject and how often.

    Attributes:
        rate: share of requests (0..1) that get a fault, chosen among `kinds` at random.
        kinds: the fault kinds to choose from (default: all).
        timeout_seconds: wall seconds a "timeout" answer is held.
        retry_after: the Retry-After (API seconds) of an injected 429.
        partial_job_rate: share of rows (0..1) inside a bulk import job that fail retryably.
    """

    rate: float = 0.0
    kinds: tuple[FaultKind, ...] = FAULT_KINDS
    timeout_seconds: float = 1.0
    retry_after: int = 1
    partial_job_rate: float = 0.0

    def __post_init__(self) -> None:
        if not 0.0 <= self.rate <= 1.0:
            raise ValueError(f"Faults.rate must be within 0..1, got {self.rate!r}")
        if not 0.0 <= self.partial_job_rate <= 1.0:
            raise ValueError(
                f"Faults.partial_job_rate must be within 0..1, got {self.partial_job_rate!r}"
            )
        unknown = [kind for kind in self.kinds if kind not in FAULT_KINDS]
        if unknown or not self.kinds:
            raise ValueError(f"Faults.kinds must be a non-empty subset of {FAULT_KINDS}")
        if self.timeout_seconds <= 0 or self.retry_after < 1:
            raise ValueError("Faults.timeout_seconds must be > 0 and retry_after >= 1")


class FaultPicker:
    """Draws faults from a seeded generator, so a run with the same seed and the same request
    order fails the same requests. Thread-safe; the faults can be replaced while serving.

    Args:
        faults: the initial fault settings.
        seed: seeds the generator.
    """

    def __init__(self, faults: Faults, seed: int) -> None:
        self._faults = faults
        self._lock = threading.Lock()
        self._requests = random.Random(f"faults:{seed}")
        self._rows = random.Random(f"job-rows:{seed}")

    @property
    def faults(self) -> Faults:
        """The current settings."""
        return self._faults

    def set(self, faults: Faults) -> None:
        """Replace the settings (the generators carry on)."""
        with self._lock:
            self._faults = faults

    def pick(self) -> FaultKind | None:
        """The fault for the next request, or None."""
        with self._lock:
            faults = self._faults
            if faults.rate <= 0.0 or self._requests.random() >= faults.rate:
                return None
            return self._requests.choice(faults.kinds)

    def row_fails(self) -> bool:
        """Whether the next row of an import job fails (per `partial_job_rate`)."""
        with self._lock:
            rate = self._faults.partial_job_rate
            return rate > 0.0 and self._rows.random() < rate


class FaultControls:
    """What every sandbox says about its fault injection: the settings, and changing them while
    serving (a test turns faults off to let a sync settle). A sandbox sets `_picker`."""

    _picker: FaultPicker

    @property
    def faults(self) -> Faults:
        """The current fault settings."""
        return self._picker.faults

    def set_faults(self, faults: Faults) -> None:
        """Change fault injection while serving."""
        self._picker.set(faults)


class CountsFaults(Protocol):
    """A sandbox state that counts the faults injected into it, by kind."""

    @property
    def lock(self) -> AbstractContextManager[Any]: ...

    @property
    def faults(self) -> Counter[str]: ...


def fault_counter(state: CountsFaults) -> Callable[[FaultKind], None]:
    """The `on_fault` of a FaultMiddleware that counts each injected fault in `state.faults`."""

    def count(kind: FaultKind) -> None:
        with state.lock:
            state.faults[kind] += 1

    return count


class FaultMiddleware:
    """ASGI middleware that injects the picked fault into requests it applies to.

    Args:
        app: the vendor application.
        picker: decides which requests fail and how.
        applies_to: which requests are eligible (e.g. not the sandbox's own inspection routes).
        error_body: renders the body of an injected 429/500/503 in the vendor's error format.
        on_fault: called with each injected fault (for request statistics).
    """

    def __init__(
        self,
        app: AsgiApp,
        picker: FaultPicker,
        *,
        applies_to: Callable[[Scope], bool],
        error_body: ErrorBody,
        on_fault: Callable[[FaultKind], None] | None = None,
    ) -> None:
        self.app = app
        self.picker = picker
        self.applies_to = applies_to
        self.error_body = error_body
        self.on_fault = on_fault

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not self.applies_to(scope):
            await self.app(scope, receive, send)
            return
        kind = self.picker.pick()
        if kind is None:
            await self.app(scope, receive, send)
            return
        if self.on_fault is not None:
            self.on_fault(kind)
        faults = self.picker.faults
        if kind in ("429", "500", "503"):
            await drain_body(receive)
            body, content_type = self.error_body(int(kind), kind)
            headers = [
                (b"content-type", content_type.encode()),
                (b"content-length", b"%d" % len(body)),
            ]
            if kind == "429":
                headers.append((b"retry-after", str(faults.retry_after).encode()))
            await send({"type": "http.response.start", "status": int(kind), "headers": headers})
            await send({"type": "http.response.body", "body": body})
        elif kind == "drop_before":
            await drain_body(receive)
            await drop_connection(send)
        elif kind == "drop_after":
            await run_buffered(self.app, scope, receive)
            await drop_connection(send)
        else:  # "timeout": applied now, answered late; sleeping yields to other requests
            messages = await run_buffered(self.app, scope, receive)
            await asyncio.sleep(faults.timeout_seconds)
            for message in messages:
                await send(message)


async def drain_body(receive: Receive) -> None:
    """Read (and discard) the request body, so the connection is in a clean state."""
    while True:
        message = await receive()
        if message["type"] != "http.request" or not message.get("more_body", False):
            return


async def run_buffered(app: AsgiApp, scope: Scope, receive: Receive) -> list[Message]:
    """Run the app to completion, keeping its response messages instead of sending them."""
    messages: list[Message] = []

    async def keep(message: Message) -> None:
        messages.append(message)

    await app(scope, receive, keep)
    return messages


async def drop_connection(send: Send) -> None:
    """Close the client's connection without a (complete) response.

    Under uvicorn `send` is a bound method of the request cycle, which holds the transport:
    closing it sends nothing at all. Waiting for the server to notice the disconnect keeps it
    from logging "returned without starting response". Elsewhere, fall back to a 200 whose body
    is shorter than its Content-Length, which every HTTP client reports as a protocol error.
    """
    cycle = getattr(send, "__self__", None)
    transport = getattr(cycle, "transport", None)
    close = getattr(transport, "close", None)
    if callable(close):
        close()
        for _ in range(100):
            if getattr(cycle, "disconnected", True):
                return
            await asyncio.sleep(0)
        return
    await send(
        {
            "type": "http.response.start",
            "status": 200,
            "headers": [(b"content-type", b"application/json"), (b"content-length", b"4096")],
        }
    )
    await send({"type": "http.response.body", "body": b'{"data":', "more_body": True})
