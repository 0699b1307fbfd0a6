"""Each destination's sandbox seen the same way, so one contract suite runs against every vendor.

A `Vendor` starts its sandbox, says which environment points cohortflow at it, writes a segment's
block for it, and reads back what the vendor holds in the terms the contract speaks: the keys
holding the segment (Klaviyo: the list's members; Omnisend: the contacts with the tag), the
enter/exit events delivered, and a contact's traits.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
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
    """One event the vendor holds: its change, the key it went to, the vendor's event id."""

    change: str
    key: str
    event_id: str


@dataclass(frozen=True)
class Vendor:
    name: str
    api_key: str
    start: Callable[[Faults, int], Any]
    env_prefix: str
    block: Callable[[str], dict[str, Any]]
    holders: Callable[[Any, str], set[str]]
    events: Callable[[Any], list[Delivered]]
    traits: Callable[[Any, str], Mapping[str, Any]]

    @contextmanager
    def sandbox(self, faults: Faults | None = None, seed: int = 1) -> Iterator[tuple[Any, str]]:
        app = self.start(faults or Faults(), seed)
        with SandboxServer(app.app) as server:
            base = server.url + ("/api" if self.name == "omnisend" else "")
            yield app, base

    def environ(self, url: str, **extra: str) -> dict[str, str]:
        return {
            f"{self.env_prefix}_API_KEY": self.api_key,
            f"{self.env_prefix}_BASE_URL": url,
            "COHORTFLOW_TIME_SCALE": str(TIME_SCALE),
            **extra,
        }

    def configs(self, *segments: str, events: bool = True) -> dict[str, SegmentConfig]:
        return {
            segment: parse_segment_config(
                segment,
                {
                    "key": "email",
                    "destinations": {
                        self.name: {**self.block(segment), "events": events, "max_exit_fraction": 1}
                    },
                },
            )
            for segment in segments
        }


# ---------------------------------------------------------------- Klaviyo


def _klaviyo_events(app: KlaviyoSandbox) -> list[Delivered]:
    profiles = app.state.profiles
    return [
        Delivered(
            "entered" if event.metric == "Entered segment" else "exited",
            str(profiles[event.profile_id].email),
            str(event.unique_id),
        )
        for event in app.state.events
    ]


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
    block=lambda segment: {"list": f"List {segment}"},
    holders=lambda app, segment: app.state.list_members(f"List {segment}"),
    events=_klaviyo_events,
    traits=_klaviyo_traits,
)


# ---------------------------------------------------------------- Omnisend


def _settled(app: OmnisendSandbox) -> None:
    """Batches and tag changes are asynchronous at Omnisend (a few API milliseconds at the
    sandbox's time scale): read the brand once they are applied."""
    app.state.settle(timeout=10)


def _omnisend_holders(app: OmnisendSandbox, segment: str) -> set[str]:
    _settled(app)
    with app.state.lock:
        return {
            str(c.identifier("email"))
            for c in app.state.contacts.values()
            if f"tag-{segment}" in c.tags
        }


def _omnisend_events(app: OmnisendSandbox) -> list[Delivered]:
    _settled(app)
    with app.state.lock:
        return [
            Delivered(
                "entered" if e.body["eventName"] == "entered segment" else "exited",
                str(e.body["contact"].get("email")),
                str(e.body["eventID"]),
            )
            for e in app.state.events
        ]


def _omnisend_traits(app: OmnisendSandbox, email: str) -> Mapping[str, Any]:
    _settled(app)
    with app.state.lock:
        contact = next(c for c in app.state.contacts.values() if c.identifier("email") == email)
        return dict(contact.fields.get("customProperties") or {})


OMNISEND = Vendor(
    name="omnisend",
    api_key="omnisend_contract_key_1",
    start=lambda faults, seed: OmnisendSandbox(
        api_key="omnisend_contract_key_1", faults=faults, time_scale=TIME_SCALE, seed=seed
    ),
    env_prefix="OMNISEND",
    block=lambda segment: {"tag": f"tag-{segment}"},
    holders=_omnisend_holders,
    events=_omnisend_events,
    traits=_omnisend_traits,
)

VENDORS = (KLAVIYO, OMNISEND)
