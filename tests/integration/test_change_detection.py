"""Change detection, property-based, on DuckDB and PostgreSQL: for any sequence of memberships,
the change log replays to the latest membership, counts match set differences, a re-run records
nothing, and the history intervals say who is in each segment."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from activations.changes import BackfillRefused, detect_changes
from activations.warehouse import Warehouse, connect
from tests.support.membership import fresh_state, publish

pytestmark = pytest.mark.integration

Membership = dict[tuple[str, str], str]
T0 = datetime(2026, 6, 30, 12)

memberships = st.dictionaries(
    keys=st.tuples(
        st.sampled_from(["vip", "lapsed_vip", "at_risk"]),
        st.sampled_from([f"p_{n}" for n in range(12)]),
    ),
    values=st.sampled_from(["h1", "h2", "h3"]),
    max_size=25,
)


def record(warehouse: Warehouse, membership: Membership, as_of: datetime):
    with connect(warehouse) as connection:
        publish(connection, {key: (None, h) for key, h in membership.items()})
        return detect_changes(
            connection, state_schema="cohortflow_state", models_schema="analytics", as_of=as_of
        )


def change_log(warehouse: Warehouse) -> list[sa.Row]:
    with connect(warehouse) as connection:
        return connection.execute(
            sa.text(
                "select l.run_id, l.segment, l.person_id, l.change, l.traits_hash "
                "from cohortflow_state.membership_change_log l "
                "join cohortflow_state.membership_runs r on r.run_id = l.run_id "
                "order by r.recorded_at, l.segment, l.person_id"
            )
        ).all()


def replay(rows: list[sa.Row]) -> Membership:
    state: Membership = {}
    for row in rows:
        key = (row.segment, row.person_id)
        if row.change == "exited":
            assert key in state, f"exit of a non-member {key}"
            del state[key]
        else:
            assert (key in state) == (row.change == "updated"), f"{row.change} of {key}"
            state[key] = row.traits_hash
    return state


@pytest.fixture(params=["duckdb", "postgres"])
def location(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> str:
    if request.param == "duckdb":
        return str(tmp_path_factory.mktemp("cd") / "w.duckdb")
    return request.getfixturevalue("postgres_url")


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(sequence=st.lists(memberships, min_size=1, max_size=5))
def test_the_change_log_replays_to_the_latest_membership(
    location: str, sequence: list[Membership]
) -> None:
    with fresh_state(location) as warehouse:
        previous: Membership = {}
        for step, membership in enumerate(sequence):
            run = record(warehouse, membership, T0 + timedelta(days=step))
            entered = membership.keys() - previous.keys()
            exited = previous.keys() - membership.keys()
            updated = {
                k for k in membership.keys() & previous.keys() if membership[k] != previous[k]
            }
            assert run.total("entered") == len(entered)
            assert run.total("exited") == len(exited)
            assert run.total("updated") == len(updated)
            for segment, changes in run.segments.items():
                assert changes.entered == sum(1 for s, _ in entered if s == segment)
                assert changes.exited == sum(1 for s, _ in exited if s == segment)
            assert replay(change_log(warehouse)) == membership
            previous = membership

        rows_before = len(change_log(warehouse))
        rerun = record(warehouse, sequence[-1], T0 + timedelta(days=len(sequence)))
        assert rerun.segments == {}
        assert len(change_log(warehouse)) == rows_before

        with connect(warehouse) as connection:
            open_intervals = connection.execute(
                sa.text(
                    "select segment, person_id, count(*) as n "
                    "from cohortflow_state.membership_history "
                    "where exited_at is null group by segment, person_id"
                )
            ).all()
            entries = connection.execute(
                sa.text(
                    "select count(*) from cohortflow_state.membership_change_log "
                    "where change = 'entered'"
                )
            ).scalar_one()
            intervals = connection.execute(
                sa.text("select count(*) from cohortflow_state.membership_history")
            ).scalar_one()
        assert {(r.segment, r.person_id) for r in open_intervals} == set(sequence[-1])
        assert all(r.n == 1 for r in open_intervals)
        assert intervals == entries  # a person who leaves and re-enters has two intervals


def test_leaving_and_reentering_gives_two_history_intervals(location: str) -> None:
    with fresh_state(location) as warehouse:
        key = ("vip", "p_1")
        record(warehouse, {key: "h1"}, T0)
        record(warehouse, {}, T0 + timedelta(days=1))
        record(warehouse, {key: "h2"}, T0 + timedelta(days=2))
        with connect(warehouse) as connection:
            rows = connection.execute(
                sa.text(
                    "select entered_at, exited_at from cohortflow_state.membership_history "
                    "order by entered_at"
                )
            ).all()
    assert [(r.entered_at, r.exited_at) for r in rows] == [
        (T0, T0 + timedelta(days=1)),
        (T0 + timedelta(days=2), None),
    ]


def test_an_as_of_before_the_last_run_is_refused_and_records_nothing(location: str) -> None:
    with fresh_state(location) as warehouse:
        record(warehouse, {("vip", "p_1"): "h1"}, T0)
        with pytest.raises(BackfillRefused, match="only moves forward"):
            record(warehouse, {}, T0 - timedelta(seconds=1))
        assert len(change_log(warehouse)) == 1
