"""Undoing the last run, property-based, on DuckDB and PostgreSQL: for any sequence of memberships,
undoing the last run leaves every state table exactly as before it, and recording the same
membership again gives the changes the undone run had. Refusals change nothing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from activations.changes import detect_changes
from activations.run_history import UndoRefused, recorded_runs, undo_last_run
from activations.warehouse import Warehouse, connect
from tests.support.membership import fresh_state, publish

pytestmark = pytest.mark.integration

Membership = dict[tuple[str, str], str]
T0 = datetime(2026, 6, 30, 12)
STATE = "cohortflow_state"
TABLES = (
    "membership_runs",
    "membership_snapshot",
    "membership_change_log",
    "membership_history",
    "sync_baselines",
    "check_results",
    "sync_ledger",
)

memberships = st.dictionaries(
    keys=st.tuples(
        st.sampled_from(["vip", "lapsed_vip"]),
        st.sampled_from([f"p_{n}" for n in range(8)]),
    ),
    values=st.sampled_from(["h1", "h2", "h3"]),
    max_size=14,
)


@pytest.fixture(params=["duckdb", "postgres"])
def location(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> str:
    if request.param == "duckdb":
        return str(tmp_path_factory.mktemp("undo") / "w.duckdb")
    return request.getfixturevalue("postgres_url")


def record(warehouse: Warehouse, membership: Membership, as_of: datetime):
    with connect(warehouse) as connection:
        publish(connection, {key: (None, h) for key, h in membership.items()})
        return detect_changes(
            connection, state_schema=STATE, models_schema="analytics", as_of=as_of
        )


def state(warehouse: Warehouse) -> dict[str, list[tuple[object, ...]]]:
    """Every row of every state table undo touches, in a stable order."""
    with connect(warehouse) as connection:
        return {
            table: sorted(
                (
                    tuple(row)
                    for row in connection.exec_driver_sql(f"select * from {STATE}.{table}")
                ),
                key=repr,
            )
            for table in TABLES
        }


def undo(warehouse: Warehouse, run_id: str):
    with connect(warehouse) as connection:
        return undo_last_run(connection, STATE, run_id)


def add_run_rows(warehouse: Warehouse, run_id: str) -> None:
    """What a check run and a first sync that sent nothing leave keyed by the run."""
    now = datetime.now(UTC).replace(tzinfo=None)
    with connect(warehouse) as connection:
        connection.execute(
            sa.text(f"insert into {STATE}.sync_baselines values ('klaviyo', 'vip', :run_id, :now)"),
            {"run_id": run_id, "now": now},
        )
        connection.execute(
            sa.text(
                f"insert into {STATE}.check_results (check_run_id, run_id, checked_at, "
                "check_name, subject, status, blocking, message) values "
                "('chk-run', :run_id, :now, 'segment_volume', 'vip', 'passed', true, 'ok')"
            ),
            {"run_id": run_id, "now": now},
        )


@settings(
    max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(sequence=st.lists(memberships, min_size=1, max_size=4), last=memberships)
def test_undo_restores_every_state_table_and_the_run_can_be_recorded_again(
    location: str, sequence: list[Membership], last: Membership
) -> None:
    with fresh_state(location) as warehouse:
        for step, membership in enumerate(sequence):
            record(warehouse, membership, T0 + timedelta(days=step))
        before = state(warehouse)
        wrong = record(warehouse, last, T0 + timedelta(days=3650))  # the typo: ten years on
        add_run_rows(warehouse, wrong.run_id)

        undone = undo(warehouse, wrong.run_id)

        assert undone.run_id == wrong.run_id
        assert state(warehouse) == before
        again = record(warehouse, last, T0 + timedelta(days=len(sequence)))
        assert again.segments == wrong.segments


def test_refusals_change_nothing(location: str) -> None:
    with fresh_state(location) as warehouse:
        first = record(warehouse, {("vip", "p_1"): "h1"}, T0)
        second = record(warehouse, {("vip", "p_2"): "h1"}, T0 + timedelta(days=1))
        before = state(warehouse)

        with pytest.raises(UndoRefused, match=f"not the last recorded run \\({second.run_id}"):
            undo(warehouse, first.run_id)
        with pytest.raises(UndoRefused, match=f"did you mean {second.run_id}"):
            undo(warehouse, second.run_id[:-1])
        assert state(warehouse) == before

        with connect(warehouse) as connection:
            connection.execute(
                sa.text(
                    f"insert into {STATE}.sync_ledger values "
                    "('klaviyo', 'vip', 'p2@example.com', 'p_2', 'h1', :now)"
                ),
                {"now": datetime.now(UTC).replace(tzinfo=None)},
            )
        synced = state(warehouse)
        with pytest.raises(UndoRefused, match="1 rows acknowledged"):
            undo(warehouse, second.run_id)
        assert state(warehouse) == synced
        with connect(warehouse) as connection:
            runs = recorded_runs(connection, STATE)
        assert [(run.run_id, run.synced) for run in runs] == [
            (second.run_id, True),
            (first.run_id, False),
        ]


def test_undo_and_the_run_list_create_nothing_before_the_first_run(location: str) -> None:
    with fresh_state(location) as warehouse:
        with pytest.raises(UndoRefused, match="no run is recorded"):
            undo(warehouse, "20260630T120000-1a2b3c4d")
        with connect(warehouse) as connection:
            assert recorded_runs(connection, STATE) == []
            created = connection.execute(
                sa.text("select count(*) from information_schema.tables where table_schema = :s"),
                {"s": STATE},
            ).scalar_one()
        assert created == 0, "a read or a refused undo created state tables"
