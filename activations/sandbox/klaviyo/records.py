"""What the sandbox state is made of: profiles, events, lists, consent, jobs, request counts."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

PROFILE_FIELDS = (
    "email",
    "phone_number",
    "external_id",
    "first_name",
    "last_name",
    "organization",
    "locale",
    "title",
    "image",
)
LOCATION_FIELDS = (
    "address1",
    "address2",
    "city",
    "country",
    "latitude",
    "longitude",
    "region",
    "zip",
    "timezone",
    "ip",
)
IDENTIFIERS = ("email", "phone_number", "external_id")

Consent = Literal["SUBSCRIBED", "UNSUBSCRIBED"]


@dataclass(frozen=True)
class Profile:
    """A profile as the sandbox holds it. `properties` is the merged custom-property dict."""

    id: str
    email: str | None = None
    phone_number: str | None = None
    external_id: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    organization: str | None = None
    locale: str | None = None
    title: str | None = None
    image: str | None = None
    location: dict[str, Any] = field(default_factory=dict)
    properties: dict[str, Any] = field(default_factory=dict)
    created: str = ""
    updated: str = ""


@dataclass(frozen=True)
class Event:
    """An accepted event. `unique_id` is as submitted (None when absent)."""

    profile_id: str
    metric: str
    unique_id: str | None
    properties: dict[str, Any]
    time: str
    value: float | None = None


@dataclass(frozen=True)
class ImportFailure:
    """One profile a bulk import job rejected, as `import-errors` lists it."""

    id: str
    code: str
    title: str
    detail: str
    pointer: str
    original_payload: dict[str, Any] | None


@dataclass(frozen=True)
class LoggedRequest:
    """A request that reached the rate limiter: when (API seconds), which operation, what status."""

    at: float
    operation_id: str
    status: int


@dataclass
class RequestStats:
    """Request counts. `stats["create_list"]` is the accepted (2xx) count of an operation;
    `stats.total` (also `stats["total"]`) counts every /api/ request, rejected and
    fault-injected ones included. `log` holds every request that reached the rate limiter."""

    total: int = 0
    accepted: Counter[str] = field(default_factory=Counter)
    statuses: Counter[int] = field(default_factory=Counter)
    faults: Counter[str] = field(default_factory=Counter)
    log: list[LoggedRequest] = field(default_factory=list)

    def __getitem__(self, operation_id: str) -> int:
        return self.total if operation_id == "total" else self.accepted[operation_id]

    def copy(self) -> RequestStats:
        """A snapshot."""
        return RequestStats(
            self.total,
            Counter(self.accepted),
            Counter(self.statuses),
            Counter(self.faults),
            list(self.log),
        )


class ConsentView(Mapping[str, str]):
    """Email marketing consent: key -> "SUBSCRIBED" / "UNSUBSCRIBED". Keys are emails (a profile's
    id when it has no email); a profile id is accepted for lookups too."""

    def __init__(self, by_key: dict[str, str], aliases: dict[str, str]) -> None:
        self._by_key = by_key
        self._aliases = aliases

    def __getitem__(self, key: str) -> str:
        if key in self._by_key:
            return self._by_key[key]
        return self._by_key[self._aliases[key]]

    def __iter__(self) -> Iterator[str]:
        return iter(self._by_key)

    def __len__(self) -> int:
        return len(self._by_key)


@dataclass(frozen=True)
class ListRecord:
    """A list as the sandbox holds it (its members are kept apart, by list id)."""

    id: str
    name: str
    opt_in_process: str
    created: str
    updated: str


@dataclass(frozen=True)
class ConsentRecord:
    """Marketing consent on one channel: the status, when it was given, the custom source."""

    status: Consent
    timestamp: str
    method_detail: str | None = None


@dataclass
class ImportJob:
    """A bulk import job: its rows until it applies (API seconds `ready_at`), then the outcome."""

    id: str
    created_at: float
    ready_at: float
    payloads: list[dict[str, Any]]
    list_ids: tuple[str, ...]
    status: str = "processing"
    completed_at: float | None = None
    profile_ids: list[str] = field(default_factory=list)
    failures: list[ImportFailure] = field(default_factory=list)


@dataclass(frozen=True)
class Rejection:
    """Why one profile could not be written. `attribute` names the offending attribute."""

    code: str
    title: str
    detail: str
    attribute: str | None = None
    duplicate_of: str | None = None


def attribute_pointer(attribute: str | None) -> str:
    """Where a rejected attribute sits inside a profile resource."""
    if attribute is None:
        return "/attributes"
    return "/id" if attribute == "id" else f"/attributes/{attribute}"
