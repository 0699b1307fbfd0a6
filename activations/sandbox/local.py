"""Every implemented destination's sandbox on loopback, and the environment pointing at them.

`cohortflow run --sandbox` (and so `make demo`) syncs into these instead of the vendors: the same
operations, validation, limits and error shapes, with state a person can inspect afterwards. The
API key is random per process, so nothing real is ever used or printed.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from activations.sandbox.klaviyo import KlaviyoSandbox
from activations.sandbox.omnisend import OmnisendSandbox
from activations.sandbox.server import SandboxServer


@dataclass(frozen=True)
class LocalSandboxes:
    """The running sandboxes and the environment variables that route syncs to them."""

    environ: dict[str, str]
    klaviyo: KlaviyoSandbox
    omnisend: OmnisendSandbox


@contextmanager
def local_sandboxes() -> Iterator[LocalSandboxes]:
    """Start the sandboxes for the duration of the block."""
    key = f"sandbox-{secrets.token_hex(8)}"
    klaviyo = KlaviyoSandbox(api_key=key)
    omnisend = OmnisendSandbox(api_key=key)
    with (
        SandboxServer(klaviyo.app) as klaviyo_at,
        SandboxServer(omnisend.app) as omnisend_at,
    ):
        yield LocalSandboxes(
            environ={
                "KLAVIYO_API_KEY": key,
                "KLAVIYO_BASE_URL": klaviyo_at.url,
                "OMNISEND_API_KEY": key,
                "OMNISEND_BASE_URL": f"{omnisend_at.url}/api",
            },
            klaviyo=klaviyo,
            omnisend=omnisend,
        )
