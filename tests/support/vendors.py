"""Each destination's sandbox seen the same way, so one contract suite runs against every vendor.

A `Vendor` starts its sandbox, says which environment points cohortflow at it, writes a segment's
block for it, and reads back what the vendor holds in the terms the contract speaks: the keys
held at a list or tag (Klaviyo: the list's members; Omnisend: the contacts with the tag), the
enter/exit events delivered, and a contact's traits. Each segment is kept at `target(segment)`
unless a scenario names another place (how the contract renames a list or tag).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from activations.sandbox import Faults, SandboxServer
from activations.sandbox.klaviyo import KlaviyoSandbox
from activations.sandbox.omnisend import OmnisendSandbox
from activations.segment_config import SegmentConfig, parse_segment_config

TIME_SCALE = 1000.0


@dataclass(frozen=True)
class Delivered:
    """One event the vendor holds: its change, the key it went to, the vendor's event id and
    the segment it names."""

    change: str
    key: str
    event_id: str
    segment: str


@dataclass(frozen=True)
class Vendor:
    name: str
    api_key: str
    start: Callable[[Faults, int], Any]
    env_prefix: str
    target_option: str
    target: Callable[[str], str]
    held_at: Callable[[Any, str], set[str]]
    events: Callable[[Any], list[Delivered]]
    traits: Callable[[Any, str], Mapping[str, Any]]
    subscribed: Callable[[Any], set[str]]
    faults_injected: Callable[[Any], Mapping[str, int]]
    removal_path: str

    @contextmanager
    def sandbox(
        self,
        faults: Faults | None = None,
        seed: int = 1,
        *,
        wrap: Callable[[Any], Any] | None = None,
    ) -> Iterator[tuple[Any, str]]:
        """The vendor's sandbox served on loopback; `wrap` puts ASGI middleware in front."""
        app = self.start(faults or Faults(), seed)
        with SandboxServer(app.app if wrap is None else wrap(app.app)) as server:
            base = server.url + ("/api" if self.name == "omnisend" else "")
            yield app, base

    def environ(self, url: str, **extra: str) -> dict[str, str]:
        return {
            f"{self.env_prefix}_API_KEY": self.api_key,
            f"{self.env_prefix}_BASE_URL": url,
            "COHORTFLOW_TIME_SCALE": str(TIME_SCALE),
            **extra,
        }

    def block(self, segment: str, target: str | None = None) -> dict[str, Any]:
        """The vendor's settings naming where `segment` is kept (its usual place by default)."""
        return {self.target_option: target or self.target(segment)}

    def holders(self, app: Any, segment: str) -> set[str]:
        """The keys held at the segment's usual list or tag."""
        return self.held_at(app, self.target(segment))

    def configs(
        self, *segments: str, events: bool = True, targets: Mapping[str, str] | None = None
    ) -> dict[str, SegmentConfig]:
        """Each segment's YAML for this vendor, kept at `targets[segment]` where given."""
        return configs_for([self], segments, events=events, targets=targets)

    def destination_block(
        self, segment: str, *, events: bool = True, target: str | None = None
    ) -> dict[str, Any]:
        """The segment's whole block under `destinations:` for this vendor."""
        return {**self.block(segment, target), "events": events, "max_exit_fraction": 1}


def configs_for(
    vendors: Sequence[Vendor],
    segments: Sequence[str],
    *,
    events: bool = True,
    targets: Mapping[str, str] | None = None,
) -> dict[str, SegmentConfig]:
    """Each segment keyed by email and routed to every one of `vendors`, each keeping it at its
    usual place (or at `targets[segment]`)."""
    targets = targets or {}
    return {
        segment: parse_segment_config(
            segment,
            {
                "key": "email",
                "destinations": {
                    v.name: v.destination_block(segment, events=events, target=targets.get(segment))
                    for v in vendors
                },
            },
        )
        for segment in segments
    }


class FailingRemovals:
    """ASGI middleware that, while `failing` is set, lets the first `allowed` removal calls
    through (`DELETE` on the vendor's removal path) and answers every later one 503, retries
    included: a removal that stops part way, however the vendor batches it."""

    def __init__(self, app: Any, vendor: Vendor, allowed: int = 1) -> None:
        self.app = app
        self.pattern = re.compile(vendor.removal_path)
        self.allowed = allowed
        self.failing = False
        self.passed = 0

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        removal = (
            scope["type"] == "http"
            and scope["method"] == "DELETE"
            and self.pattern.search(scope["path"]) is not None
        )
        if removal and self.failing:
            if self.passed >= self.allowed:
                headers = [(b"content-type", b"application/json")]
                await send({"type": "http.response.start", "status": 503, "headers": headers})
                await send({"type": "http.response.body", "body": b"{}"})
                return
            self.passed += 1
        await self.app(scope, receive, send)


# ---------------------------------------------------------------- Klaviyo


def _klaviyo_events(app: KlaviyoSandbox) -> list[Delivered]:
    profiles = app.state.profiles
    return [
        Delivered(
            "entered" if event.metric == "Entered segment" else "exited",
            str(profiles[event.profile_id].email),
            str(event.unique_id),
            str(event.properties["segment"]),
        )
        for event in app.state.events
    ]


def _klaviyo_subscribed(app: KlaviyoSandbox) -> set[str]:
    return {email for email, status in app.state.subscriptions.items() if status == "SUBSCRIBED"}


def _klaviyo_traits(app: KlaviyoSandbox, email: str) -> Mapping[str, Any]:
    profile = next(p for p in app.state.profiles.values() if p.email == email)
    return dict(profile.properties)


KLAVIYO = Vendor(
    name="klaviyo",
    api_key="pk_contract_1",
    start=lambda faults, seed: KlaviyoSandbox(
        api_key="pk_contract_1", faults=faults, time_scale=TIME_SCALE, seed=seed
    ),
    env_prefix="KLAVIYO",
    target_option="list",
    target=lambda segment: f"List {segment}",
    held_at=lambda app, name: app.state.list_members(name),
    events=_klaviyo_events,
    traits=_klaviyo_traits,
    subscribed=_klaviyo_subscribed,
    faults_injected=lambda app: app.state.summary()["requests"]["faults"],
    removal_path=r"/relationships/profiles$",
)


# ---------------------------------------------------------------- Omnisend


def _settled(app: OmnisendSandbox) -> None:
    """Batches and tag changes are asynchronous at Omnisend (a few API milliseconds at the
    sandbox's time scale): read the brand once they are applied."""
    app.state.settle(timeout=10)


def _omnisend_held_at(app: OmnisendSandbox, tag: str) -> set[str]:
    _settled(app)
    with app.state.lock:
        return {str(c.identifier("email")) for c in app.state.contacts.values() if tag in c.tags}


def _omnisend_events(app: OmnisendSandbox) -> list[Delivered]:
    """Every event received, the historical duplicates Omnisend dropped included: it does not
    deduplicate the real-time events that start automations, so a re-sent one counts."""
    _settled(app)
    with app.state.lock:
        return [
            Delivered(
                "entered" if e.body["eventName"] == "entered segment" else "exited",
                str(e.body["contact"].get("email")),
                str(e.body["eventID"]),
                str(e.body["properties"]["segment"]),
            )
            for e in app.state.received_events
        ]


def _omnisend_traits(app: OmnisendSandbox, email: str) -> Mapping[str, Any]:
    _settled(app)
    with app.state.lock:
        contact = next(c for c in app.state.contacts.values() if c.identifier("email") == email)
        return dict(contact.fields.get("customProperties") or {})


def _omnisend_subscribed(app: OmnisendSandbox) -> set[str]:
    """Emails whose email channel status is `subscribed`."""
    _settled(app)
    with app.state.lock:
        return {
            str(identifier["id"])
            for contact in app.state.contacts.values()
            for identifier in contact.identifiers
            if identifier["type"] == "email"
            and identifier.get("channels", {}).get("email", {}).get("status") == "subscribed"
        }


OMNISEND = Vendor(
    name="omnisend",
    api_key="omnisend_contract_key_1",
    start=lambda faults, seed: OmnisendSandbox(
        api_key="omnisend_contract_key_1", faults=faults, time_scale=TIME_SCALE, seed=seed
    ),
    env_prefix="OMNISEND",
    target_option="tag",
    target=lambda segment: f"tag-{segment}",
    held_at=_omnisend_held_at,
    events=_omnisend_events,
    traits=_omnisend_traits,
    subscribed=_omnisend_subscribed,
    faults_injected=lambda app: app.state.summary()["faults"],
    removal_path=r"/contacts/tags$",
)

VENDORS = (KLAVIYO, OMNISEND)
