"""Every destination's sandbox on loopback, and the environment pointing at them.

`cohortflow run --sandbox` (and so `make demo`) syncs into these instead of the vendors: the same
operations, validation, limits and error shapes, with state a person can inspect afterwards. The
API key is random per process, so nothing real is ever used or printed.

Webhook receivers are named per segment (`url_env`, `secret_env`), so their variables are only
known once the segments are read: `LocalSandboxes.webhook_environ(configs)` points every one of
them at the local receiver (one hook per URL variable), replacing whatever the shell holds, so a
sandbox run never posts to a real partner.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass

from activations.sandbox.klaviyo import KlaviyoSandbox
from activations.sandbox.omnisend import OmnisendSandbox
from activations.sandbox.server import SandboxServer
from activations.sandbox.twilio import DEFAULT_SENDER, TwilioSandbox
from activations.sandbox.webhook import HOOKS_PREFIX, WebhookSandbox
from activations.segment_config import SegmentConfig, routed_blocks


@dataclass(frozen=True)
class LocalSandboxes:
    """The running sandboxes and the environment variables that route syncs to them."""

    environ: dict[str, str]
    klaviyo: KlaviyoSandbox
    omnisend: OmnisendSandbox
    twilio: TwilioSandbox
    webhook: WebhookSandbox
    webhook_url: str

    def webhook_environ(self, configs: Mapping[str, SegmentConfig]) -> dict[str, str]:
        """Each variable the webhook blocks of `configs` name, pointing at the local receiver
        (hook `/hooks/<url variable, lower case>`) with its secret."""
        environ: dict[str, str] = {}
        for block in routed_blocks(configs, "webhook"):
            url_env, secret_env = str(block["url_env"]), str(block["secret_env"])
            environ[url_env] = f"{self.webhook_url}{HOOKS_PREFIX}{url_env.lower()}"
            environ[secret_env] = self.webhook.secret
        return environ


@contextmanager
def local_sandboxes() -> Iterator[LocalSandboxes]:
    """Start the sandboxes for the duration of the block."""
    key = f"sandbox-{secrets.token_hex(8)}"
    klaviyo = KlaviyoSandbox(api_key=key)
    omnisend = OmnisendSandbox(api_key=key)
    account = "AC" + secrets.token_hex(16)
    twilio = TwilioSandbox(account, key, senders=(DEFAULT_SENDER,))
    webhook = WebhookSandbox(f"whsec-{secrets.token_hex(16)}")
    with (
        SandboxServer(klaviyo.app) as klaviyo_at,
        SandboxServer(omnisend.app) as omnisend_at,
        SandboxServer(twilio.app) as twilio_at,
        SandboxServer(webhook.app) as webhook_at,
    ):
        yield LocalSandboxes(
            environ={
                "KLAVIYO_API_KEY": key,
                "KLAVIYO_BASE_URL": klaviyo_at.url,
                "OMNISEND_API_KEY": key,
                "OMNISEND_BASE_URL": f"{omnisend_at.url}/api",
                "TWILIO_ACCOUNT_SID": account,
                "TWILIO_AUTH_TOKEN": key,
                "TWILIO_FROM": DEFAULT_SENDER,
                "TWILIO_BASE_URL": twilio_at.url,
            },
            klaviyo=klaviyo,
            omnisend=omnisend,
            twilio=twilio,
            webhook=webhook,
            webhook_url=webhook_at.url,
        )
