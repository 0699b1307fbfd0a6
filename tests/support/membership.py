"""Stand-ins for dbt in state tests: an empty warehouse and a published segment_membership.

Change detection and planning read only `analytics.segment_membership`; writing it directly lets
property-based tests try hundreds of memberships without a dbt build each.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from activations.warehouse import Warehouse, connect

# (segment, person_id) -> (email, traits_hash)
Members = Mapping[tuple[str, str], tuple[str | None, str]]


@contextmanager
def fresh_state(location: str) -> Iterator[Warehouse]:
    """The warehouse with empty `analytics` and `cohortflow_state` schemas."""
    warehouse = Warehouse.from_location(location)
    with connect(warehouse, create=True) as connection:
        for schema in ("cohortflow_state", "analytics"):
            connection.exec_driver_sql(f"drop schema if exists {schema} cascade")
        connection.exec_driver_sql("create schema analytics")
        connection.exec_driver_sql(
            "create table analytics.segment_membership (segment varchar, person_id varchar, "
            "email varchar, phone varchar, traits varchar, traits_hash varchar)"
        )
    yield warehouse


def publish(connection: Connection, members: Members) -> None:
    """Replace segment_membership with `members`."""
    connection.exec_driver_sql("delete from analytics.segment_membership")
    if members:
        connection.execute(
            sa.text(
                "insert into analytics.segment_membership (segment, person_id, email, traits_hash) "
                "values (:segment, :person_id, :email, :traits_hash)"
            ),
            [
                {"segment": s, "person_id": p, "email": email, "traits_hash": h}
                for (s, p), (email, h) in members.items()
            ],
        )
