"""The sync plan and ledger, on DuckDB and PostgreSQL: plan = desired state minus acknowledged
state, so a partially failed sync leaves exactly the unacknowledged rows in the next plan; keys
that change are removed and re-added; mass removals are held until approved."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from sqlalchemy import text

from activations.changes import detect_changes
from activations.errors import CohortflowError
from activations.ledger import ensure_baseline, record_acks, record_event_acks
from activations.planner import PlanNotFound, SegmentPlan, approve, build_plan, plan_rows
from activations.rows import RowAck
from activations.segment_config import DestinationConfig, SegmentConfig
from activations.warehouse import Warehouse, connect
from tests.support.membership import Members, fresh_state, publish

pytestmark = pytest.mark.integration

STATE = "cohortflow_state"
T0 = datetime(2026, 6, 30, 12)
CONFIGS = {
    "vip": SegmentConfig(
        segment="vip",
        key="email",
        destinations=(DestinationConfig("klaviyo", {"list": "VIPs", "events": True}),),
    )
}


@pytest.fixture(params=["duckdb", "postgres"])
def location(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> str:
    if request.param == "duckdb":
        return str(tmp_path_factory.mktemp("plan") / "w.duckdb")
    return request.getfixturevalue("postgres_url")


def run(warehouse: Warehouse, members: Members, as_of: datetime) -> str:
    with connect(warehouse) as connection:
        publish(connection, members)
        return detect_changes(
            connection, state_schema=STATE, models_schema="analytics", as_of=as_of
        ).run_id


def plan_for(warehouse: Warehouse) -> SegmentPlan:
    with connect(warehouse) as connection:
        (plan,) = build_plan(connection, state_schema=STATE, configs=CONFIGS).segments
    return plan


def approve_id(warehouse: Warehouse, plan_id: str) -> None:
    with connect(warehouse) as connection:
        approve(
            connection, state_schema=STATE, configs=CONFIGS, plan_id=plan_id, approved_by="test"
        )


def approved_plan(warehouse: Warehouse) -> SegmentPlan:
    """The plan, approved when the gate holds it (the gate has tests of its own below)."""
    plan = plan_for(warehouse)
    if plan.blocked:
        approve_id(warehouse, plan.plan_id)
        plan = plan_for(warehouse)
    return plan


def rows(warehouse: Warehouse, plan: SegmentPlan, kind: str) -> dict[str, str]:
    with connect(warehouse) as connection:
        return {
            row.destination_key: row.traits_hash
            for row in plan_rows(connection, state_schema=STATE, plan=plan, kind=kind)
        }


def sync(warehouse: Warehouse, plan: SegmentPlan, fails: set[str]) -> None:
    """A fake destination: every planned row succeeds except keys in `fails`."""
    with connect(warehouse) as connection:
        acks = [
            RowAck(
                row.destination_key,
                row.person_id,
                kind,
                row.traits_hash,
                ok=row.destination_key not in fails,
                retryable=True,
                reason="503",
            )
            for kind in ("add", "update", "remove")
            for row in plan_rows(connection, state_schema=STATE, plan=plan, kind=kind)
        ]
        record_acks(connection, state_schema=STATE, destination="klaviyo", segment="vip", acks=acks)


emails = st.sampled_from([f"p{n}@example.com" for n in range(10)])
memberships = st.dictionaries(emails, st.sampled_from(["h1", "h2"]), max_size=10)


@settings(
    max_examples=20,
    deadline=None,
    phases=[Phase.explicit, Phase.generate],  # each example hits a database: no slow shrinking
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(steps=st.lists(st.tuples(memberships, st.sets(emails)), min_size=1, max_size=4))
def test_the_next_plan_holds_exactly_what_was_not_acknowledged(
    location: str, steps: list[tuple[dict[str, str], set[str]]]
) -> None:
    with fresh_state(location) as warehouse:
        ledger: dict[str, str] = {}  # what the fake destination acknowledged
        for step, (desired, fails) in enumerate(steps):
            members = {("vip", email): (email, h) for email, h in desired.items()}
            run(warehouse, members, T0 + timedelta(days=step))
            plan = approved_plan(warehouse)
            assert rows(warehouse, plan, "add") == {
                k: h for k, h in desired.items() if k not in ledger
            }
            assert set(rows(warehouse, plan, "remove")) == ledger.keys() - desired.keys()
            assert rows(warehouse, plan, "update") == {
                k: h for k, h in desired.items() if k in ledger and ledger[k] != h
            }
            assert (plan.adds, plan.held) == (len(desired.keys() - ledger.keys()), len(ledger))

            sync(warehouse, plan, fails)
            for key in ledger.keys() - desired.keys() - fails:
                del ledger[key]
            ledger.update({k: h for k, h in desired.items() if k not in fails})
            # Whatever failed, and only that, is planned again.
            retry = approved_plan(warehouse)
            pending = (
                set(rows(warehouse, retry, "add"))
                | set(rows(warehouse, retry, "update"))
                | set(rows(warehouse, retry, "remove"))
            )
            expected = {
                k for k in fails if k in desired and (k not in ledger or ledger[k] != desired[k])
            }
            expected |= {k for k in fails if k in ledger and k not in desired}
            assert pending == expected
            assert retry.retrying == len(expected)


def test_each_failed_attempt_is_counted_with_its_reason(location: str) -> None:
    members = {("vip", f"p{n}"): (f"p{n}@example.com", "h1") for n in range(3)}
    with fresh_state(location) as warehouse:
        run(warehouse, members, T0)
        for _ in range(3):
            sync(warehouse, plan_for(warehouse), fails={"p0@example.com"})
        with connect(warehouse) as connection:
            errors = connection.execute(
                text(
                    "select destination_key, attempts, reason from cohortflow_state.sync_row_errors"
                )
            ).all()
        assert [tuple(row) for row in errors] == [("p0@example.com", 3, "503")]


def test_a_changed_email_is_removed_under_the_old_key_and_added_under_the_new(
    location: str,
) -> None:
    with fresh_state(location) as warehouse:
        run(warehouse, {("vip", "p1"): ("old@example.com", "h1")}, T0)
        sync(warehouse, plan_for(warehouse), fails=set())
        run(warehouse, {("vip", "p1"): ("new@example.com", "h1")}, T0 + timedelta(days=1))
        plan = plan_for(warehouse)
        assert set(rows(warehouse, plan, "remove")) == {"old@example.com"}
        assert set(rows(warehouse, plan, "add")) == {"new@example.com"}


def test_members_without_the_key_are_counted_not_sent(location: str) -> None:
    with fresh_state(location) as warehouse:
        run(warehouse, {("vip", "p1"): (None, "h1"), ("vip", "p2"): ("a@example.com", "h1")}, T0)
        plan = plan_for(warehouse)
        assert (plan.adds, plan.unroutable) == (1, 1)


def test_a_mass_removal_is_blocked_until_its_plan_id_is_approved(location: str) -> None:
    ten = {("vip", f"p{n}"): (f"p{n}@example.com", "h1") for n in range(10)}
    with fresh_state(location) as warehouse:
        run(warehouse, ten, T0)
        sync(warehouse, plan_for(warehouse), fails=set())
        run(warehouse, {}, T0 + timedelta(days=1))  # an upstream load broke: segment empty
        plan = plan_for(warehouse)
        assert plan.blocked and (plan.removes, plan.departures, plan.held) == (10, 10, 10)
        assert plan.plan_id in (plan.block_reason or "") and "vip" in (plan.block_reason or "")
        with pytest.raises(CohortflowError, match="cohortflow approve"):
            rows(warehouse, plan, "remove")
        with connect(warehouse) as connection, pytest.raises(PlanNotFound):
            approve(
                connection,
                state_schema=STATE,
                configs=CONFIGS,
                plan_id="plan-nope",
                approved_by="test",
            )
        approve_id(warehouse, plan.plan_id)
        approved = plan_for(warehouse)
        assert not approved.blocked and approved.plan_id == plan.plan_id
        assert len(rows(warehouse, approved, "remove")) == 10


def test_a_load_that_blanks_the_keys_is_a_mass_removal(location: str) -> None:
    ten = {("vip", f"p{n}"): (f"p{n}@example.com", "h1") for n in range(10)}
    with fresh_state(location) as warehouse:
        run(warehouse, ten, T0)
        sync(warehouse, plan_for(warehouse), fails=set())
        # Everyone is still in the segment, but a broken load nulled every email.
        run(warehouse, {member: (None, "h1") for member in ten}, T0 + timedelta(days=1))
        plan = plan_for(warehouse)
        assert (plan.removes, plan.departures, plan.unroutable) == (10, 10, 10)
        assert plan.blocked


def test_an_approval_does_not_carry_over_to_a_different_removal(location: str) -> None:
    ten = {("vip", f"p{n}"): (f"p{n}@example.com", "h1") for n in range(10)}
    with fresh_state(location) as warehouse:
        run(warehouse, ten, T0)
        sync(warehouse, plan_for(warehouse), fails=set())
        run(warehouse, dict(list(ten.items())[:4]), T0 + timedelta(days=1))
        first = plan_for(warehouse)
        approve_id(warehouse, first.plan_id)
        run(warehouse, {}, T0 + timedelta(days=2))
        second = plan_for(warehouse)
        assert second.plan_id != first.plan_id and second.blocked


def test_events_start_after_the_baseline_and_are_never_planned_twice(location: str) -> None:
    with fresh_state(location) as warehouse:
        baseline = run(warehouse, {("vip", "p1"): ("p1@example.com", "h1")}, T0)
        assert (plan_for(warehouse).entered_events, plan_for(warehouse).has_baseline) == (0, False)
        with connect(warehouse) as connection:
            ensure_baseline(
                connection,
                state_schema=STATE,
                destination="klaviyo",
                segment="vip",
                run_id=baseline,
            )
        run(warehouse, {("vip", "p2"): ("p2@example.com", "h1")}, T0 + timedelta(days=1))
        plan = plan_for(warehouse)
        assert (plan.entered_events, plan.exited_events) == (1, 1)
        with connect(warehouse) as connection:
            from activations.queries import statement

            ids = [
                r.event_id
                for r in connection.execute(
                    statement(
                        connection,
                        "select_plan_events",
                        state_schema=STATE,
                        models_schema="analytics",
                        key_column="email",
                    ),
                    {"destination": "klaviyo", "segment": "vip"},
                )
            ]
            record_event_acks(
                connection, state_schema=STATE, destination="klaviyo", event_ids=ids[:1]
            )
        after = plan_for(warehouse)
        assert after.entered_events + after.exited_events == 1


def test_two_people_sharing_a_key_are_one_row_whose_traits_never_flip(location: str) -> None:
    # p2 and p1 share one email (a household address): the destination holds one contact for
    # it, so the plan sends one row, p1's (the smaller person_id), and, once acknowledged,
    # plans no update for it run after run.
    members = {
        ("vip", "p2"): ("home@example.com", "h-of-p2"),
        ("vip", "p1"): ("home@example.com", "h-of-p1"),
        ("vip", "p3"): ("solo@example.com", "h-of-p3"),
    }
    with fresh_state(location) as warehouse:
        for day in range(3):
            run(warehouse, members, T0 + timedelta(days=day))
            plan = approved_plan(warehouse)
            if day == 0:
                assert (plan.adds, plan.updates) == (2, 0)
                assert rows(warehouse, plan, "add") == {
                    "home@example.com": "h-of-p1",
                    "solo@example.com": "h-of-p3",
                }
            else:
                assert (plan.adds, plan.updates, plan.removes) == (0, 0, 0)
            sync(warehouse, plan, fails=set())
