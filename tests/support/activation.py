"""Stand-ins for dbt in sync tests: the three models a sync reads, written directly.

A sync reads `analytics.segment_membership` (who, key, traits), `analytics.dim_person` (contact
details of people an event is about) and `analytics.contact_consent` (latest consent per
address). Writing them lets sync tests drive many membership changes against a sandbox without a
dbt build for each.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from activations.changes import detect_changes
from activations.segment_config import SegmentConfig
from activations.warehouse import Warehouse, connect
from tests.support.membership import fresh_state
from tests.support.vendors import KLAVIYO


@dataclass(frozen=True)
class Person:
    person_id: str
    email: str | None
    phone: str | None = None
    timezone: str | None = None


@dataclass
class Store:
    """People, who is in which segment with which traits, and consent per address: email
    consent by email, SMS consent by phone."""

    people: dict[str, Person] = field(default_factory=dict)
    members: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)
    consent: dict[str, str] = field(default_factory=dict)  # email -> subscribed/unsubscribed
    sms_consent: dict[str, str] = field(default_factory=dict)  # phone -> subscribed/unsubscribed
    # When an address's consent was given or withdrawn (default: the publish's as_of).
    consent_at: dict[str, datetime] = field(default_factory=dict)

    def email_members(self, segment: str) -> set[str]:
        """Emails of a segment's members: what the list must hold."""
        return {
            email
            for (seg, person_id) in self.members
            if seg == segment and (email := self.people[person_id].email) is not None
        }


def klaviyo_configs(*segments: str, events: bool = True) -> dict[str, SegmentConfig]:
    return KLAVIYO.configs(*segments, events=events)


@contextmanager
def empty_models(location: str) -> Iterator[Warehouse]:
    """The warehouse with empty state and the three model tables."""
    with fresh_state(location) as warehouse:
        with connect(warehouse) as connection:
            connection.exec_driver_sql(
                "create table analytics.dim_person (person_id varchar, email varchar, "
                "phone varchar, timezone varchar)"
            )
            connection.exec_driver_sql(
                "create table analytics.contact_consent (channel varchar, address varchar, "
                "status varchar, consented_at timestamp, source varchar)"
            )
        yield warehouse


def publish(warehouse: Warehouse, store: Store, as_of: datetime) -> str:
    """Write `store` as the models, record the run's changes; return the run id."""
    with connect(warehouse) as connection:
        for table in ("segment_membership", "dim_person", "contact_consent"):
            connection.exec_driver_sql(f"delete from analytics.{table}")
        people = [
            {
                "person_id": p.person_id,
                "email": p.email,
                "phone": p.phone,
                "timezone": p.timezone,
            }
            for p in store.people.values()
        ]
        if people:
            connection.execute(
                sa.text(
                    "insert into analytics.dim_person "
                    "values (:person_id, :email, :phone, :timezone)"
                ),
                people,
            )
        rows = []
        for (segment, person_id), traits in store.members.items():
            person = store.people[person_id]
            text = json.dumps(traits, sort_keys=True, separators=(",", ":"))
            rows.append(
                {
                    "segment": segment,
                    "person_id": person_id,
                    "email": person.email,
                    "phone": person.phone,
                    "traits": text,
                    "traits_hash": hashlib.md5(text.encode()).hexdigest(),
                }
            )
        if rows:
            connection.execute(
                sa.text(
                    "insert into analytics.segment_membership values (:segment, :person_id, "
                    ":email, :phone, :traits, :traits_hash)"
                ),
                rows,
            )
        consents = [
            {
                "channel": channel,
                "address": address,
                "status": status,
                "at": store.consent_at.get(address, as_of),
            }
            for channel, statuses in (("email", store.consent), ("sms", store.sms_consent))
            for address, status in statuses.items()
        ]
        if consents:
            connection.execute(
                sa.text(
                    "insert into analytics.contact_consent values "
                    "(:channel, :address, :status, :at, 'test')"
                ),
                consents,
            )
        recorded = detect_changes(
            connection, state_schema="cohortflow_state", models_schema="analytics", as_of=as_of
        )
    return recorded.run_id


def ledger_keys(warehouse: Warehouse, destination: str, segment: str) -> set[str]:
    with connect(warehouse) as connection:
        return {
            str(key)
            for (key,) in connection.execute(
                sa.text(
                    "select destination_key from cohortflow_state.sync_ledger "
                    "where destination = :d and segment = :s"
                ),
                {"d": destination, "s": segment},
            )
        }


def recorded_targets(warehouse: Warehouse, destination: str) -> dict[str, str]:
    """segment -> the list or tag the ledger says its members are kept at."""
    with connect(warehouse) as connection:
        return {
            str(segment): str(target)
            for segment, target in connection.execute(
                sa.text(
                    "select segment, target from cohortflow_state.sync_targets "
                    "where destination = :d"
                ),
                {"d": destination},
            )
        }


def row_errors(warehouse: Warehouse, destination: str) -> Mapping[str, tuple[bool, str]]:
    """destination_key -> (retryable, reason) of the rows that failed last."""
    with connect(warehouse) as connection:
        return {
            str(row.destination_key): (bool(row.retryable), str(row.reason))
            for row in connection.execute(
                sa.text(
                    "select destination_key, retryable, reason "
                    "from cohortflow_state.sync_row_errors where destination = :d"
                ),
                {"d": destination},
            )
        }
