"""The sync plan: per destination and segment, desired state minus what the destination holds.

Desired state is the current `segment_membership` of segments routed to a destination, keyed by
the segment's destination identity (email, phone or person_id). The ledger holds what the
destination acknowledged. Their difference, computed in SQL inside the warehouse, is the plan:
adds (new members, changed keys, rows that failed before), removes (members who left, old keys),
trait updates, and enter/exit events after the destination's baseline. `cohortflow plan` prints it
and a sync executes exactly it: `segment_work` and `consent_work` read what a destination is
handed, through the plan's own queries.

The mass-removal gate lives here too: a plan that would remove more than `max_exit_fraction` of
what the destination holds from us is blocked until its id is approved. An empty segment after a
broken upstream load is exactly the case it exists for.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import bindparam, text
from sqlalchemy.engine import Connection, Row

from activations.changes import last_run_id
from activations.destinations.options import parse_options
from activations.destinations.registry import registration
from activations.errors import CohortflowError
from activations.ledger import held_count, recorded_target
from activations.queries import count_of, first_rows, rendered, statement
from activations.readiness import require_state
from activations.rows import (
    CONSENT_ADDRESS,
    Channel,
    ConsentWork,
    DestinationKey,
    Event,
    Member,
    Operation,
    PlanRow,
    SegmentWork,
)
from activations.segment_config import DestinationConfig, SegmentConfig
from activations.transform import MODELS_SCHEMA

# What `cohortflow plan` shows of a sampled row: which row it is, not what would be sent.
_SAMPLE_COLUMNS = ("destination_key", "person_id", "traits_hash")
_ROW_QUERIES: dict[Operation, str] = {
    "add": "select_plan_adds",
    "remove": "select_plan_removes",
    "update": "select_plan_updates",
}


class PlanNotFound(CohortflowError):
    """No current plan has the given id."""


@dataclass(frozen=True)
class SegmentPlan:
    """What one destination must be told about one segment."""

    destination: str
    segment: str
    key: DestinationKey
    plan_id: str
    held: int
    adds: int
    removes: int
    departures: int
    updates: int
    entered_events: int
    exited_events: int
    unroutable: int
    retrying: int
    quarantined: int
    max_exit_fraction: float
    approved: bool
    has_baseline: bool
    target: str | None = None
    moving_from: str | None = None
    moves: int = 0
    samples: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    run_id: str | None = None  # the recorded run the plan is as of

    @property
    def exit_fraction(self) -> float:
        """Share of what the destination holds that leaves the segment (0 when it holds none).
        Key changes (a new email) remove and re-add the same person and do not count."""
        return self.departures / self.held if self.held else 0.0

    @property
    def blocked(self) -> bool:
        """True when the plan removes too much and nobody approved it."""
        return self.exit_fraction > self.max_exit_fraction and not self.approved

    @property
    def block_reason(self) -> str | None:
        if not self.blocked:
            return None
        return (
            f"{self.destination}/{self.segment}: {self.departures:,} of the {self.held:,} "
            f"members {self.destination} holds from cohortflow would be removed "
            f"({self.exit_fraction:.0%} > max_exit_fraction {self.max_exit_fraction:.0%}). "
            f"Nothing of this segment is sent until approved: `cohortflow approve {self.plan_id}` "
            f"(or raise max_exit_fraction for {self.destination} in the segment's YAML)."
        )

    def as_dict(self) -> dict[str, Any]:
        return {
            "plan_id": self.plan_id,
            "destination": self.destination,
            "segment": self.segment,
            "key": self.key,
            "held": self.held,
            "adds": self.adds,
            "removes": self.removes,
            "departures": self.departures,
            "updates": self.updates,
            "entered_events": self.entered_events,
            "exited_events": self.exited_events,
            "unroutable": self.unroutable,
            "retrying": self.retrying,
            "quarantined": self.quarantined,
            "exit_fraction": round(self.exit_fraction, 4),
            "max_exit_fraction": self.max_exit_fraction,
            "approved": self.approved,
            "blocked": self.blocked,
            "block_reason": self.block_reason,
            "has_baseline": self.has_baseline,
            "target": self.target,
            "moving_from": self.moving_from,
            "moves": self.moves,
            "samples": self.samples,
        }


@dataclass(frozen=True)
class SyncPlan:
    """The plan for every routed (destination, segment) as of the last recorded run."""

    run_id: str | None
    segments: tuple[SegmentPlan, ...]

    @property
    def blocked(self) -> tuple[SegmentPlan, ...]:
        return tuple(plan for plan in self.segments if plan.blocked)


def plan_id_for(
    destination: str, segment: str, run_id: str | None, departures: int, held: int
) -> str:
    """A short id naming exactly this plan: any change in the run or the counts changes it, so
    an approval never carries over to a different, possibly larger, removal."""
    key = f"{destination}|{segment}|{run_id}|{departures}|{held}"
    return "plan-" + hashlib.sha256(key.encode()).hexdigest()[:12]


def build_plan(
    connection: Connection,
    *,
    state_schema: str,
    configs: Mapping[str, SegmentConfig],
    destination: str | None = None,
    sample_size: int = 5,
) -> SyncPlan:
    """The plan for every segment routed to `destination` (all destinations when None).

    Raises:
        StateNotCurrent: no run was recorded yet, or the state needs a migration first.
    """
    require_state(connection, state_schema)  # a plan reads; it never migrates
    run_id = last_run_id(connection, state_schema)
    plans = [
        _segment_plan(connection, state_schema, config, target, run_id, sample_size)
        for config in configs.values()
        for target in config.destinations
        if destination is None or target.name == destination
    ]
    return SyncPlan(run_id=run_id, segments=tuple(plans))


def _segment_plan(
    connection: Connection,
    state_schema: str,
    config: SegmentConfig,
    target: DestinationConfig,
    run_id: str | None,
    sample_size: int,
) -> SegmentPlan:
    ids = {"state_schema": state_schema, "models_schema": MODELS_SCHEMA, "key_column": config.key}
    scope = {"destination": target.name, "segment": config.segment}

    def scalar(query: Any) -> int:
        return int(connection.execute(query, scope).scalar_one())

    counts = {
        kind: scalar(count_of(connection, name, **ids)) for kind, name in _ROW_QUERIES.items()
    }
    samples: dict[str, list[dict[str, Any]]] = {
        kind: [
            {column: row._mapping[column] for column in _SAMPLE_COLUMNS}
            for row in connection.execute(
                first_rows(connection, name, "destination_key", **ids),
                {**scope, "limit": sample_size},
            )
        ]
        for kind, name in _ROW_QUERIES.items()
    }
    events: dict[str, int] = {}
    if target.events:
        # Counted in the warehouse: `segment_work` reads the events themselves when it sends.
        events_sql = rendered(connection, "select_plan_events", **ids)
        counted = text(f"select change, count(*) as n from ({events_sql}) as q group by change")
        events = {str(row.change): int(row.n) for row in connection.execute(counted, scope)}
    held = scalar(statement(connection, "select_ledger_held", **ids))
    departures = scalar(_departures(connection, ids))
    plan_id = plan_id_for(target.name, config.segment, run_id, departures, held)
    approved = (
        connection.execute(
            statement(connection, "select_approval", **ids), {"plan_id": plan_id}
        ).first()
        is not None
    )
    has_baseline = (
        connection.execute(statement(connection, "select_baseline", **ids), scope).first()
        is not None
    )
    retrying = scalar(_retrying(connection, ids))
    kept_at = segment_target(target, config.segment)
    recorded = recorded_target(
        connection, state_schema=state_schema, destination=target.name, segment=config.segment
    )
    moves = 0
    if recorded is not None and recorded != kept_at:  # counted only when the YAML renamed it
        moves = held_count(
            connection, state_schema=state_schema, destination=target.name, segment=config.segment
        )
    moving = moves > 0
    return SegmentPlan(
        destination=target.name,
        segment=config.segment,
        key=config.key,
        plan_id=plan_id,
        held=held,
        adds=counts["add"],
        removes=counts["remove"],
        departures=departures,
        updates=counts["update"],
        entered_events=events.get("entered", 0),
        exited_events=events.get("exited", 0),
        unroutable=scalar(statement(connection, "select_unroutable", **ids)),
        retrying=retrying,
        quarantined=scalar(statement(connection, "select_plan_quarantined", **ids)),
        run_id=run_id,
        max_exit_fraction=target.max_exit_fraction,
        approved=approved,
        has_baseline=has_baseline,
        target=kept_at,
        moving_from=recorded if moving else None,
        moves=moves if moving else 0,
        samples=samples,
    )


def segment_target(target: DestinationConfig, segment: str) -> str | None:
    """Where `segment`'s members are kept at `target`'s destination (its list or tag)."""
    return parse_options(registration(target.name).options, segment, target.options).target


def _departures(connection: Connection, ids: Mapping[str, str]) -> Any:
    return count_of(connection, "select_plan_departures", **ids)


def _retrying(connection: Connection, ids: Mapping[str, str]) -> Any:
    """Rows of this plan that failed before (an error row for a key still planned). Errors of keys
    no longer planned (the person left before the retry) do not count."""
    planned = " union all ".join(
        f"select destination_key from ({rendered(connection, name, **ids)}) as {kind}_rows"
        for kind, name in _ROW_QUERIES.items()
    )
    errors = rendered(connection, "select_row_errors", **ids)
    return text(
        f"select count(*) from ({errors}) as errors where errors.destination_key in ({planned})"
    )


def plan_rows(
    connection: Connection, *, state_schema: str, plan: SegmentPlan, kind: Operation
) -> Iterator[PlanRow]:
    """Stream the rows of one part of a plan, for a sync to send.

    Raises:
        CohortflowError: the plan is blocked by the mass-removal gate.
    """
    for row in _plan_query(connection, state_schema, plan, kind):
        yield PlanRow(str(row.destination_key), str(row.person_id), str(row.traits_hash))


def segment_work(
    connection: Connection, *, state_schema: str, plan: SegmentPlan, target: DestinationConfig
) -> tuple[SegmentWork, list[Event]]:
    """What the destination must send for `plan`: its rows with contact details and traits, the
    profile ids learnt for its removes, and its addressed events; and apart, the events nobody
    can be addressed by (not the destination's to send). Everything is read through the plan's
    own queries, so a sync of ten changes in a million-member segment reads ten rows.

    Raises:
        CohortflowError: the plan is blocked by the mass-removal gate.
    """
    ids = {"state_schema": state_schema, "models_schema": MODELS_SCHEMA}
    scope = {"destination": plan.destination, "segment": plan.segment}

    def members(kind: Operation) -> list[Member]:
        # One row per key: the plan's queries pick one member of a shared key.
        return [
            Member(
                destination_key=str(row.destination_key),
                person_id=str(row.person_id),
                traits_hash=str(row.traits_hash),
                email=row.email,
                phone=row.phone,
                traits=json.loads(row.traits),
            )
            for row in _plan_query(connection, state_schema, plan, kind)
        ]

    removes: list[PlanRow] = []
    profile_ids: dict[str, str] = {}
    for row in _plan_query(connection, state_schema, plan, "remove"):
        removes.append(PlanRow(str(row.destination_key), str(row.person_id), str(row.traits_hash)))
        if row.profile_id is not None:
            profile_ids[str(row.destination_key)] = str(row.profile_id)
    events, unaddressed = _events(connection, ids, scope, plan.key) if target.events else ([], [])
    work = SegmentWork(
        segment=plan.segment,
        options=target.options,
        key=plan.key,
        adds=members("add"),
        updates=members("update"),
        removes=removes,
        events=events,
        profile_ids=profile_ids,
        run_id=plan.run_id,
    )
    return work, unaddressed


def move_work(
    connection: Connection, *, state_schema: str, plan: SegmentPlan, work: SegmentWork
) -> SegmentWork:
    """`work` turned into the first half of a move (`plan.moving_from` set): every key the ledger
    holds removed from the old list or tag, addressed there through the destination's own
    removal, with the segment's exit events. Its adds, updates and enter events wait until the
    old place holds nobody from the segment (the runner re-reads the work then): the ledger
    does not say which place a row is held at, so a member added to the new place mid-move
    would be "removed" from the old one by the move's next pass, lose its ledger row while the
    new place keeps it, and never be removed when they leave."""
    if plan.moving_from is None:
        raise ValueError(f"{plan.destination}/{plan.segment} is not moving")
    scope = {"destination": plan.destination, "segment": plan.segment}
    held = connection.execute(
        statement(connection, "select_held_keys", state_schema=state_schema), scope
    )
    removes: list[PlanRow] = []
    profile_ids: dict[str, str] = {}
    for row in held:
        removes.append(PlanRow(str(row.destination_key), str(row.person_id), str(row.traits_hash)))
        if row.profile_id is not None:
            profile_ids[str(row.destination_key)] = str(row.profile_id)
    options = parse_options(registration(plan.destination).options, plan.segment, work.options)
    return replace(
        work,
        options=options.options_at(plan.moving_from),
        adds=[],
        updates=[],
        removes=removes,
        events=[event for event in work.events if event.change == "exited"],
        profile_ids=profile_ids,
    )


def _events(
    connection: Connection, ids: Mapping[str, str], scope: Mapping[str, str], key: DestinationKey
) -> tuple[list[Event], list[Event]]:
    """The segment's unsent enter/exit events, addressed, and those with no address at all.

    An exit goes to the key the ledger holds for the person in this segment: that profile is in
    the list and in the flow the exit must stop, even when the warehouse has since lost or
    changed the person's address. An enter (and an exit the ledger holds no key for) goes to the
    person's current address: that is where the add just went."""
    changes = list(connection.execute(statement(connection, "select_plan_events", **ids), scope))
    if not changes:
        return [], []
    query = statement(connection, "select_event_addresses", **ids).bindparams(
        bindparam("person_ids", expanding=True)
    )
    people = {
        str(row.person_id): row
        for row in connection.execute(
            query, {**scope, "person_ids": sorted({str(c.person_id) for c in changes})}
        )
    }
    addressed: list[Event] = []
    unaddressed: list[Event] = []
    for change in changes:
        person = people.get(str(change.person_id))
        contact = {
            "email": person.email if person is not None else None,
            "phone": person.phone if person is not None else None,
        }
        held = person.held_key if person is not None else None
        if change.change == "exited" and held is not None and key in contact:
            contact[key] = str(held)
        event = Event(
            event_id=str(change.event_id),
            change="entered" if change.change == "entered" else "exited",
            run_id=str(change.run_id),
            occurred_at=change.as_of,
            person_id=str(change.person_id),
            email=contact["email"],
            phone=contact["phone"],
            traits=json.loads(change.traits) if change.traits is not None else {},
            sent_at=change.sent_at,
        )
        (addressed if event.address(key) else unaddressed).append(event)
    return addressed, unaddressed


def consent_work(
    connection: Connection,
    *,
    state_schema: str,
    destination: str,
    channel: Channel,
    segments: Mapping[str, DestinationKey],
) -> ConsentWork:
    """`channel`'s consent to grant and to withdraw at `destination`.

    Granted where the warehouse says subscribed, to members of those of `segments` (name: key)
    that identify people by the channel's address: an email-keyed segment's contacts get email
    consent, a phone-keyed segment's get SMS consent. Consent never goes to an address the
    segment does not key its contacts by, because that would create a second contact for the
    person (or land on someone else's). Withdrawn where it now says unsubscribed and cohortflow
    had granted it at `destination`."""
    address = CONSENT_ADDRESS[channel]
    ids = {"state_schema": state_schema, "models_schema": MODELS_SCHEMA, "address_column": address}
    keyed = sorted(segment for segment, key in segments.items() if key == address)
    scope = {"destination": destination, "channel": channel}
    subscribe: list[str] = []
    if keyed:
        query = statement(connection, "select_plan_subscribes", **ids).bindparams(
            bindparam("segments", expanding=True)
        )
        subscribe = sorted(
            str(row.address) for row in connection.execute(query, {**scope, "segments": keyed})
        )
    unsubscribe = sorted(
        str(row.address)
        for row in connection.execute(
            statement(connection, "select_plan_unsubscribes", **ids), scope
        )
    )
    return ConsentWork(channel=channel, subscribe=subscribe, unsubscribe=unsubscribe)


def _plan_query(
    connection: Connection, state_schema: str, plan: SegmentPlan, kind: Operation
) -> Iterator[Row[Any]]:
    if plan.blocked:
        raise CohortflowError(plan.block_reason or "plan blocked")
    ids = {"state_schema": state_schema, "models_schema": MODELS_SCHEMA, "key_column": plan.key}
    query = statement(connection, _ROW_QUERIES[kind], **ids)
    yield from connection.execute(query, {"destination": plan.destination, "segment": plan.segment})


def approve(
    connection: Connection,
    *,
    state_schema: str,
    configs: Mapping[str, SegmentConfig],
    plan_id: str,
    approved_by: str,
) -> SegmentPlan:
    """Approve the current plan with id `plan_id` (its removals may then be sent).

    Raises:
        PlanNotFound: no current plan has that id (the data moved on: run `cohortflow plan`).
    """
    plan = next(
        (
            p
            for p in build_plan(connection, state_schema=state_schema, configs=configs).segments
            if p.plan_id == plan_id
        ),
        None,
    )
    if plan is None:
        raise PlanNotFound(
            f"no current plan has id {plan_id}: the data or the ledger changed since it was "
            "printed. Run `cohortflow plan` and approve the id it shows now."
        )
    if not plan.approved:
        connection.execute(
            statement(connection, "insert_approval", state_schema=state_schema),
            {
                "plan_id": plan.plan_id,
                "destination": plan.destination,
                "segment": plan.segment,
                "removes": plan.departures,
                "held": plan.held,
                "approved_at": datetime.now(UTC).replace(tzinfo=None),
                "approved_by": approved_by,
            },
        )
    return plan
