"""Fast and full runs interleaved in any order, on DuckDB and PostgreSQL: a fast run records
changes of its own segments only, a full run as of a scheduled instant before a fast run's leaves
that run's segments alone, and every segment's snapshot and change log stay exactly what a
reference model of "each segment moves forward on its own" says.

(Issue 14's first slice: the fast path's state layer. Full runs are scheduled, e.g. 06:00, and
may be recorded after a fast run "now"; fast runs compare only the segments they rebuilt.)
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from activations.changes import BackfillRefused, RecordedRun, detect_changes
from activations.warehouse import Warehouse, connect
from tests.support.membership import fresh_state, publish

pytestmark = pytest.mark.integration

Membership = dict[tuple[str, str], str]
T0 = datetime(2026, 6, 30, 12)
SLOW = ("vip", "lapsed_vip")
FAST = ("cart_abandoners",)


def members_of(segments: tuple[str, ...]) -> st.SearchStrategy[Membership]:
    return st.dictionaries(
        keys=st.tuples(st.sampled_from(segments), st.sampled_from([f"p_{n}" for n in range(8)])),
        values=st.sampled_from(["h1", "h2"]),
        max_size=12,
    )


@dataclass(frozen=True)
class Run:
    fast: bool
    minutes_later: int  # how far "now" moved since the previous run
    lag_minutes: int  # a full run's as_of is its scheduled instant: this much before now
    membership: Membership  # what dbt built: every segment (a fast run rebuilds slow ones too)


runs = st.lists(
    st.builds(
        Run,
        fast=st.booleans(),
        minutes_later=st.integers(min_value=0, max_value=120),
        lag_minutes=st.integers(min_value=0, max_value=180),
        membership=members_of(SLOW + FAST),
    ),
    min_size=1,
    max_size=8,
)


@dataclass
class Model:
    """Each segment on its own: what it was last compared as, and as of when."""

    recorded: dict[str, dict[str, str]]
    last_as_of: dict[str, datetime]
    last_full: datetime | None = None

    def compare(self, segment: str, membership: Membership, as_of: datetime) -> None:
        self.recorded[segment] = {p: h for (s, p), h in membership.items() if s == segment}
        self.last_as_of[segment] = as_of


def detect(
    warehouse: Warehouse, membership: Membership, as_of: datetime, fast: bool
) -> RecordedRun:
    with connect(warehouse) as connection:
        publish(connection, {key: (None, h) for key, h in membership.items()})
        return detect_changes(
            connection,
            state_schema="cohortflow_state",
            models_schema="analytics",
            as_of=as_of,
            segments=FAST if fast else None,
        )


def state(warehouse: Warehouse) -> tuple[dict[str, dict[str, str]], list[sa.Row]]:
    with connect(warehouse) as connection:
        snapshot: dict[str, dict[str, str]] = {}
        for row in connection.execute(
            sa.text(
                "select segment, person_id, traits_hash from cohortflow_state.membership_snapshot"
            )
        ):
            snapshot.setdefault(row.segment, {})[row.person_id] = row.traits_hash
        log = connection.execute(
            sa.text(
                "select l.run_id, l.as_of, l.segment, l.person_id, l.change, l.traits_hash "
                "from cohortflow_state.membership_change_log l "
                "join cohortflow_state.membership_runs r on r.run_id = l.run_id "
                "order by r.recorded_at, l.segment, l.person_id"
            )
        ).all()
    return snapshot, log


def replay(log: list[sa.Row]) -> dict[str, dict[str, str]]:
    members: dict[str, dict[str, str]] = {}
    for row in log:
        segment = members.setdefault(row.segment, {})
        if row.change == "exited":
            assert row.person_id in segment, f"exit of a non-member {row.segment}/{row.person_id}"
            del segment[row.person_id]
        else:
            assert (row.person_id in segment) == (row.change == "updated"), row
            segment[row.person_id] = row.traits_hash
    return members


@pytest.fixture(params=["duckdb", "postgres"])
def location(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> str:
    if request.param == "duckdb":
        return str(tmp_path_factory.mktemp("ci") / "w.duckdb")
    return request.getfixturevalue("postgres_url")


@settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(sequence=runs)
def test_fast_and_full_runs_interleave_and_each_segment_moves_forward_on_its_own(
    location: str, sequence: list[Run]
) -> None:
    model = Model(recorded={}, last_as_of={})
    now = T0
    with fresh_state(location) as warehouse:
        for run in sequence:
            now += timedelta(minutes=run.minutes_later)
            if run.fast:
                as_of = now
            else:  # a scheduled instant, never before the last full run's
                as_of = now - timedelta(minutes=run.lag_minutes)
                as_of = max(as_of, model.last_full or as_of)
            recorded = detect(warehouse, run.membership, as_of, run.fast)
            if run.fast:
                compared: tuple[str, ...] = FAST
                assert recorded.skipped == ()
            else:
                fresher = {s for s, at in model.last_as_of.items() if at > as_of}
                assert set(recorded.skipped) == fresher
                compared = tuple(s for s in SLOW + FAST if s not in fresher)
                model.last_full = as_of
            for segment in compared:
                model.compare(segment, run.membership, as_of)
            assert set(recorded.segments) <= set(compared), "changes only where it compared"

            snapshot, log = state(warehouse)
            expected = {s: m for s, m in model.recorded.items() if m}
            assert snapshot == expected
            assert {s: m for s, m in replay(log).items() if m} == expected
            for segment in SLOW + FAST:
                instants = [row.as_of for row in log if row.segment == segment]
                assert instants == sorted(instants), f"{segment} went back in time"


def test_a_fast_run_before_its_segments_last_comparison_is_refused(tmp_path) -> None:
    with fresh_state(str(tmp_path / "w.duckdb")) as warehouse:
        detect(warehouse, {("cart_abandoners", "p_1"): "h1"}, T0, fast=True)
        with pytest.raises(BackfillRefused, match="segment cart_abandoners"):
            detect(warehouse, {}, T0 - timedelta(minutes=1), fast=True)
        # A full run at an earlier scheduled instant is fine: it leaves the carts alone.
        full = detect(warehouse, {("vip", "p_2"): "h1"}, T0 - timedelta(minutes=30), fast=False)
        assert full.skipped == ("cart_abandoners",) and set(full.segments) == {"vip"}
        with pytest.raises(BackfillRefused, match="before the last recorded run"):
            detect(warehouse, {}, T0 - timedelta(hours=1), fast=False)
