"""What the webhook sandbox received: every delivery, the unique batches, rejections; inspectable.

Receiver rules a sender can rely on here (each one a choice a careful partner makes):
- A batch is identified by its `batch_id` within one hook (`POST /hooks/{name}`): the first
  delivery of an id is applied, every later one is a duplicate, answered 200 and applied never
  again. The sender delivers at least once (a lost answer is re-sent); this makes it exactly once
  in effect, and `deliveries` keeps the duplicates so a test can see the re-sends happened.
- A duplicate whose payload differs from the batch first accepted under that id is still a
  duplicate (the receiver keeps what it applied) but is flagged `conflict`: a sender that re-uses
  a batch id for other content loses those records silently at a real partner.
- Only deliveries answered 200 are deliveries; anything refused (401 signature, 400 body) is only
  counted in `rejected` by kind, and nothing of it is stored.
"""

from __future__ import annotations

import copy
import threading
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal, get_args

Kind = Literal["membership", "events"]
KeyedBy = Literal["email", "phone", "person_id"]
BATCH_TYPES: tuple[Kind, ...] = get_args(Kind)
KEYS: tuple[KeyedBy, ...] = get_args(KeyedBy)
# The record fields read, in order, to count records by what happened to them.
CHANGE_FIELDS = ("change", "operation")
UNSPECIFIED = "unspecified"
HOOK_COUNTS = ("deliveries", "duplicates", "batches", "records")


@dataclass(frozen=True)
class Delivery:
    """One delivery answered 200, as it arrived.

    Attributes:
        hook: the `{name}` of `POST /hooks/{name}`.
        batch_id: the payload's `batch_id` (equal to its `Cohortflow-Batch-Id` header).
        timestamp: the signed timestamp of its `Cohortflow-Signature` (Unix seconds).
        received_at: the receiver's clock when it arrived (Unix seconds).
        payload: the parsed JSON body.
        duplicate: an earlier delivery to this hook already carried this batch id.
        conflict: a duplicate whose payload differs from the batch first accepted.
    """

    hook: str
    batch_id: str
    timestamp: int
    received_at: float
    payload: Mapping[str, Any]
    duplicate: bool
    conflict: bool = False


class WebhookState:
    """The deliveries a sandbox received. Every method takes `lock` itself: uvicorn serves in
    its own thread while a test reads from another. Readers get copies, so a test cannot change
    what the sandbox holds by editing what it was handed."""

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self._deliveries: list[Delivery] = []
        # (hook, batch_id) -> payload of the first delivery; insertion order is arrival order
        self._accepted: dict[tuple[str, str], Mapping[str, Any]] = {}
        self.rejected: Counter[str] = Counter()  # refusal kind -> count
        self.faults: Counter[str] = Counter()  # injected fault kind -> count

    def receive(
        self, hook: str, payload: Mapping[str, Any], *, timestamp: int, received_at: float
    ) -> Delivery:
        """Record a signature-valid, well-formed delivery; apply it unless its batch id was
        already accepted on this hook. Returns the delivery (its `duplicate` flag says which)."""
        batch_id = str(payload["batch_id"])
        kept = copy.deepcopy(dict(payload))
        with self.lock:
            first = self._accepted.get((hook, batch_id))
            if first is None:
                self._accepted[(hook, batch_id)] = kept
            delivery = Delivery(
                hook=hook,
                batch_id=batch_id,
                timestamp=timestamp,
                received_at=received_at,
                payload=kept,
                duplicate=first is not None,
                conflict=first is not None and first != kept,
            )
            self._deliveries.append(delivery)
            return delivery

    def reject(self, kind: str) -> None:
        """Count a refused request by kind ("missing", "stale", "invalid_json", ...)."""
        with self.lock:
            self.rejected[kind] += 1

    @property
    def deliveries(self) -> list[Delivery]:
        """Every delivery answered 200, duplicates included, in arrival order: the judge of
        at-least-once (a re-sent batch shows up here twice)."""
        with self.lock:
            return [copy.deepcopy(d) for d in self._deliveries]

    def batches(self, hook: str | None = None) -> list[dict[str, Any]]:
        """The payloads of accepted (unique) batches in arrival order, of one hook or all."""
        with self.lock:
            return [
                copy.deepcopy(dict(payload))
                for (name, _), payload in self._accepted.items()
                if hook is None or name == hook
            ]

    def records(self, hook: str | None = None, type: Kind | None = None) -> list[dict[str, Any]]:
        """Every record of the accepted batches, flattened in arrival order; optionally of one
        hook and one batch type. Each change the sender made should appear here exactly once."""
        return [
            record
            for batch in self.batches(hook)
            if type is None or batch["type"] == type
            for record in batch["records"]
        ]

    def summary(self) -> dict[str, Any]:
        """Counts, JSON-able, for `GET /sandbox/state` and the demo's printout.

        `records_by_change` counts each record's `change` ("entered", "exited": events) or
        `operation` ("add", "remove", "update": membership). `repeated_records` counts records
        of accepted batches whose `id` an earlier accepted batch on the same hook already
        carried: batch-id dedupe cannot catch a record re-sent inside a differently made batch,
        so a sender that should deliver each change once wants this at 0.
        """
        with self.lock:
            deliveries = list(self._deliveries)
            batches = list(self._accepted.items())
            rejected, faults = dict(self.rejected), dict(self.faults)
        by_type: Counter[str] = Counter()
        by_change: Counter[str] = Counter()
        hooks: dict[str, Counter[str]] = {}
        seen: set[tuple[str, str]] = set()
        repeated = 0
        for (hook, _), payload in batches:
            records = payload["records"]
            by_type[payload["type"]] += len(records)
            by_change.update(change_of(record) for record in records)
            counts = hooks.setdefault(hook, Counter())
            counts["batches"] += 1
            counts["records"] += len(records)
            for record in records:
                repeated += (hook, record["id"]) in seen
                seen.add((hook, record["id"]))
        for delivery in deliveries:
            counts = hooks.setdefault(delivery.hook, Counter())
            counts["deliveries"] += 1
            counts["duplicates"] += delivery.duplicate
        return {
            "deliveries": len(deliveries),
            "batches": len(batches),
            "duplicates": sum(d.duplicate for d in deliveries),
            "conflicts": sum(d.conflict for d in deliveries),
            "records": sum(by_type.values()),
            "records_by_type": dict(sorted(by_type.items())),
            "records_by_change": dict(sorted(by_change.items())),
            "repeated_records": repeated,
            "hooks": {
                name: {key: counts[key] for key in HOOK_COUNTS}
                for name, counts in sorted(hooks.items())
            },
            "rejected": dict(sorted(rejected.items())),
            "faults": dict(sorted(faults.items())),
        }


def change_of(record: Mapping[str, Any]) -> str:
    """What happened to a record ("entered", "exited", "updated", ...): its `change` field, else
    its `operation` field, else "unspecified" (the payload contract requires neither)."""
    for name in CHANGE_FIELDS:
        value = record.get(name)
        if isinstance(value, str) and value:
            return value
    return UNSPECIFIED
