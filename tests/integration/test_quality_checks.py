"""Each data-quality check on data that must pass and data that must fail, on DuckDB and Postgres.

The models a check reads are written directly (no dbt build); raw thresholds come from a small
manifest written here, as dbt would write them from `_sources.yml`.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from activations.errors import CohortflowError
from activations.quality.gate import approve_failure, run_checks
from activations.quality.results import CheckReport, CheckResult
from activations.raw_contract import RAW_TABLES
from activations.segment_config import SegmentConfig, parse_segment_config
from activations.settings import Settings
from activations.warehouse import Warehouse, connect
from tests.support.activation import Person, Store, empty_models, publish

pytestmark = pytest.mark.integration

AS_OF = datetime(2026, 6, 30, 12, 0, 0)
TYPES = {
    "text": "varchar",
    "timestamp": "timestamp",
    "decimal": "decimal(18, 2)",
    "integer": "integer",
}
SOURCES = {
    "customers": {
        "loaded_at_field": "created_at",
        "freshness": {"error_after": {"count": 2, "period": "day"}},
        "meta": {
            "cohortflow": {
                "min_rows": 1,
                "max_duplicate_fraction": 0.05,
                "never_empty": ["customer_id", "email"],
            }
        },
    },
    "orders": {"meta": {"cohortflow": {"min_rows": 1, "max_row_drop": 0.5}}},
}


@pytest.fixture
def warehouse(warehouse_location: str) -> Iterator[Warehouse]:
    with empty_models(warehouse_location) as warehouse:
        with connect(warehouse) as connection:
            connection.exec_driver_sql("drop schema if exists raw cascade")
            connection.exec_driver_sql("create schema raw")
            for table in RAW_TABLES:  # every contract table: a missing one fails on its own
                columns = ", ".join(f"{c.name} {TYPES[c.type]}" for c in table.columns)
                connection.exec_driver_sql(f"create table raw.{table.name} ({columns})")
        yield warehouse


@pytest.fixture
def manifest(tmp_path: Path) -> Path:
    path = tmp_path / "manifest.json"
    sources = {
        f"source.cohortflow.raw.{name}": {"source_name": "raw", "name": name, "config": config}
        for name, config in SOURCES.items()
    }
    path.write_text(json.dumps({"sources": sources}), encoding="utf-8")
    return path


def configs(destination: str = "klaviyo", key: str = "email", **checks: Any) -> dict[str, Any]:
    options = {"klaviyo": {"list": "VIPs"}, "omnisend": {"tag": "vips"}}.get(destination, {})
    meta = {"key": key, "destinations": {destination: options}, "checks": checks or None}
    return {"vip": parse_segment_config("vip", meta)}


def check(
    warehouse: Warehouse, manifest: Path, segments: dict[str, SegmentConfig] | None = None
) -> CheckReport:
    return run_checks(
        Settings(warehouse=warehouse),
        configs=configs() if segments is None else segments,
        manifest_path=manifest,
        run_results_path=manifest.parent / "no_run_results.json",
    )


def result(report: CheckReport, name: str, subject: str | None = None) -> CheckResult:
    (found,) = [r for r in report.results if r.check == name and subject in (None, r.subject)]
    return found


def raw_rows(warehouse: Warehouse, customers: int, orders: int, newest: datetime) -> None:
    with connect(warehouse) as connection:
        connection.exec_driver_sql("delete from raw.customers")
        connection.exec_driver_sql("delete from raw.orders")
        connection.execute(
            sa.text(
                "insert into raw.customers (customer_id, email, created_at) "
                "values (:id, :email, :at)"
            ),
            [
                {"id": f"c{i}", "email": f"c{i}@example.com", "at": newest - timedelta(hours=i)}
                for i in range(customers)
            ],
        )
        if orders:
            connection.execute(
                sa.text("insert into raw.orders (order_id) values (:id)"),
                [{"id": f"o{i}"} for i in range(orders)],
            )


def store(size: int, email: Any = None) -> Store:
    people = {
        f"p{i}": Person(f"p{i}", email(i) if email else f"p{i}@example.com") for i in range(size)
    }
    return Store(people=people, members={("vip", p): {"tier": "gold"} for p in people})


# ---------------------------------------------------------------- raw tables


def test_raw_completeness_fails_an_empty_table_and_a_collapse_against_the_accepted_count(
    warehouse: Warehouse, manifest: Path
) -> None:
    day = iter(range(10))

    def run_with(orders: int) -> CheckResult:
        """A load of `orders` rows, a run recording it, and the checks of that run."""
        raw_rows(warehouse, customers=40, orders=orders, newest=AS_OF)
        publish(warehouse, store(30), AS_OF + timedelta(days=next(day)))
        return result(check(warehouse, manifest), "raw_completeness", "raw.orders")

    assert run_with(100).status == "passed"
    assert run_with(60).status == "passed"  # 40% fewer: allowed

    collapsed = run_with(20)  # 67% fewer than 60: collapsed
    assert (collapsed.status, collapsed.holds, collapsed.observed) == ("failed", True, 20)
    assert "60" in collapsed.message and collapsed.failure_id

    # A collapse nobody accepted never becomes the new normal: still compared with 60.
    still = run_with(20)
    assert still.status == "failed" and still.threshold == 30

    # Approving it passes this run's checks again under the same id (the bar does not move
    # within the run) and makes 20 the count the next run is compared with.
    approve_failure(Settings(warehouse=warehouse), str(still.failure_id), "marketer")
    again = result(check(warehouse, manifest), "raw_completeness", "raw.orders")
    assert again.failure_id == still.failure_id and not again.holds
    assert run_with(15).status == "passed"

    empty = run_with(0)
    assert empty.status == "failed" and empty.observed == 0


def load_customers(warehouse: Warehouse, count: int, email: Any, phone: Any) -> None:
    """`count` customers whose email and phone are `email(i)` and `phone(i)` (None: null)."""
    with connect(warehouse) as connection:
        connection.exec_driver_sql("delete from raw.customers")
        connection.execute(
            sa.text(
                "insert into raw.customers (customer_id, email, phone, created_at) "
                "values (:id, :email, :phone, :at)"
            ),
            [
                {"id": f"c{i}", "email": email(i), "phone": phone(i), "at": AS_OF}
                for i in range(count)
            ],
        )


def emails(i: int) -> str:
    return f"c{i}@example.com"


def test_raw_completeness_holds_a_column_emptied_since_the_accepted_load(
    warehouse: Warehouse, manifest: Path
) -> None:
    day = iter(range(10))

    def load(email: Any, phone: Any) -> CheckResult:
        """A load of 50 customers, a run recording it, and its completeness result."""
        load_customers(warehouse, 50, email, phone)
        publish(warehouse, store(30), AS_OF + timedelta(days=next(day)))
        return result(check(warehouse, manifest), "raw_completeness", "raw.customers")

    accepted = load(emails, lambda i: f"+1555010{i:04d}" if i < 45 else " ")  # 90% phones
    assert accepted.status == "passed", accepted.message

    lost = load(lambda i: None, lambda i: f"+1555010{i:04d}")
    assert (lost.status, lost.holds) == ("failed", True)
    assert "customers.email filled in 0.0% of rows, down from 100.0%" in lost.message, lost.message
    assert "never_empty" in lost.message and "phone" not in lost.message
    assert lost.failure_id and lost.subject == "raw.customers"

    # Phones fall from 90% (blank text counts as empty) to 20%: more than half of them went.
    fewer = load(emails, lambda i: f"+1555010{i:04d}" if i < 10 else "")
    assert fewer.status == "failed", fewer.message
    assert "customers.phone filled in 20.0% of rows, down from 90.0%" in fewer.message
    assert "email" not in fewer.message.partition("Columns")[2]

    # A fall nobody accepted never becomes the new normal: still compared with 90%. Approving
    # it passes this run under the same id and makes 20% the share the next load must keep.
    still = load(emails, lambda i: f"+1555010{i:04d}" if i < 10 else None)
    assert still.holds and "down from 90.0%" in still.message
    assert still.failure_id is not None
    approve_failure(Settings(warehouse=warehouse), still.failure_id, "marketer")
    again = result(check(warehouse, manifest), "raw_completeness", "raw.customers")
    assert again.failure_id == still.failure_id and not again.holds
    assert load(emails, lambda i: f"+1555010{i:04d}" if i < 9 else None).status == "passed"


def test_a_first_load_without_any_email_is_held(warehouse: Warehouse, manifest: Path) -> None:
    load_customers(warehouse, 20, lambda i: " " if i % 2 else None, lambda i: f"+1555010{i:04d}")
    publish(warehouse, store(30), AS_OF)
    empty = result(check(warehouse, manifest), "raw_completeness", "raw.customers")
    assert (empty.status, empty.holds) == ("failed", True)
    assert "customers.email is empty in every row, and never_empty lists it" in empty.message


def test_sparse_and_always_empty_columns_pass(warehouse: Warehouse, manifest: Path) -> None:
    def sparse(start: int) -> Any:
        return lambda i: f"+1555010{i:04d}" if i % 10 == start else None  # 10% of customers

    for day, start in enumerate((0, 3, 7)):
        load_customers(warehouse, 100, emails, sparse(start))  # first_name: never filled
        publish(warehouse, store(30), AS_OF + timedelta(days=day))
        completeness = result(check(warehouse, manifest), "raw_completeness", "raw.customers")
        assert completeness.status == "passed", completeness.message
    assert "8 columns filled as expected (8 against the last accepted load)" in (
        completeness.message
    )


def test_raw_freshness_compares_the_newest_row_with_the_run_as_of(
    warehouse: Warehouse, manifest: Path
) -> None:
    publish(warehouse, store(30), AS_OF)
    raw_rows(warehouse, customers=10, orders=5, newest=AS_OF - timedelta(hours=47))
    fresh = result(check(warehouse, manifest), "raw_freshness", "raw.customers")
    assert fresh.status == "passed"

    raw_rows(warehouse, customers=10, orders=5, newest=AS_OF - timedelta(hours=49))
    stale = result(check(warehouse, manifest), "raw_freshness", "raw.customers")
    assert stale.status == "failed" and stale.holds
    assert stale.observed == pytest.approx(49.0)


def test_raw_duplicates_allow_a_few_copies_and_fail_a_table_loaded_twice(
    warehouse: Warehouse, manifest: Path
) -> None:
    publish(warehouse, store(30), AS_OF)
    raw_rows(warehouse, customers=100, orders=5, newest=AS_OF)
    with connect(warehouse) as connection:  # one copied row: 2 of 101 rows share a key
        connection.exec_driver_sql("insert into raw.customers select * from raw.customers limit 1")
    assert result(check(warehouse, manifest), "raw_duplicates").status == "passed"

    with connect(warehouse) as connection:
        connection.exec_driver_sql("insert into raw.customers select * from raw.customers")
    doubled = result(check(warehouse, manifest), "raw_duplicates")
    assert doubled.status == "failed" and doubled.observed == pytest.approx(1.0)


# ---------------------------------------------------------------- the sync payload


def test_null_keys_fail_past_the_segments_threshold_with_sample_people(
    warehouse: Warehouse, manifest: Path
) -> None:
    raw_rows(warehouse, customers=10, orders=5, newest=AS_OF)
    publish(warehouse, store(10, email=lambda i: None if i < 4 else f"p{i}@example.com"), AS_OF)
    assert result(check(warehouse, manifest), "payload_null_keys").status == "passed"  # 40%

    publish(warehouse, store(10, email=lambda i: None), AS_OF + timedelta(days=1))
    failed = result(check(warehouse, manifest), "payload_null_keys")
    assert (failed.status, failed.segment, failed.destination) == ("failed", "vip", "klaviyo")
    assert failed.observed == 1.0
    assert [s["person_id"] for s in failed.samples] == ["p0", "p1", "p2", "p3", "p4"]

    strict = configs(max_null_key_fraction=0.0)
    publish(
        warehouse,
        store(10, email=lambda i: None if i == 0 else f"p{i}@x.com"),
        AS_OF + timedelta(days=2),
    )
    assert result(check(warehouse, manifest, strict), "payload_null_keys").status == "failed"


def test_invalid_and_duplicate_keys_fail_and_say_which_people(
    warehouse: Warehouse, manifest: Path
) -> None:
    raw_rows(warehouse, customers=10, orders=5, newest=AS_OF)
    publish(warehouse, store(10), AS_OF)
    report = check(warehouse, manifest)
    assert result(report, "payload_invalid_keys").status == "passed"
    assert result(report, "payload_duplicate_keys").status == "passed"

    emails = {3: "not-an-email", 5: "p6@example.com"}  # p5 and p6 share an inbox
    publish(warehouse, store(10, email=lambda i: emails.get(i, f"p{i}@example.com")), AS_OF)
    report = check(warehouse, manifest)
    invalid = result(report, "payload_invalid_keys")
    assert invalid.status == "failed" and [s["person_id"] for s in invalid.samples] == ["p3"]
    duplicated = result(report, "payload_duplicate_keys")
    assert duplicated.status == "failed"
    assert sorted(s["person_id"] for s in duplicated.samples) == ["p5", "p6"]
    assert all("example.com" in s["key"] and "p6@" not in s["key"] for s in duplicated.samples)


def test_phone_keys_must_be_e164(warehouse: Warehouse, manifest: Path) -> None:
    raw_rows(warehouse, customers=10, orders=5, newest=AS_OF)
    phones = {i: f"+1555010{i:04d}" for i in range(10)}
    people = {f"p{i}": Person(f"p{i}", None, phones[i]) for i in range(10)}
    members: dict[tuple[str, str], dict[str, Any]] = {("vip", p): {} for p in people}
    publish(warehouse, Store(people=people, members=members), AS_OF)
    by_phone = configs(key="phone")
    assert result(check(warehouse, manifest, by_phone), "payload_invalid_keys").status == "passed"

    people["p2"] = Person("p2", None, "555-0102")
    publish(warehouse, Store(people=people, members=members), AS_OF)
    assert result(check(warehouse, manifest, by_phone), "payload_invalid_keys").status == "failed"


def test_traits_over_the_destinations_limit_fail(warehouse: Warehouse, manifest: Path) -> None:
    raw_rows(warehouse, customers=10, orders=5, newest=AS_OF)
    fine = store(5)
    publish(warehouse, fine, AS_OF)
    assert result(check(warehouse, manifest), "payload_trait_size").status == "passed"

    fine.members[("vip", "p1")] = {"notes": "é" * 60_000}  # 120,000 bytes, 60,000 characters
    publish(warehouse, fine, AS_OF)
    oversized = result(check(warehouse, manifest), "payload_trait_size")
    assert oversized.status == "failed" and [s["person_id"] for s in oversized.samples] == ["p1"]


# ---------------------------------------------------------------- volume and consent


def test_segment_volume_fails_an_implausible_move_and_passes_the_first_run(
    warehouse: Warehouse, manifest: Path
) -> None:
    raw_rows(warehouse, customers=10, orders=5, newest=AS_OF)
    members = store(100)
    publish(warehouse, members, AS_OF)
    first = result(check(warehouse, manifest), "segment_volume")
    assert first.status == "passed" and "first run" in first.message

    for i in range(30):  # 30% leave: plausible
        del members.members[("vip", f"p{i}")]
    publish(warehouse, members, AS_OF + timedelta(days=1))
    assert result(check(warehouse, manifest), "segment_volume").status == "passed"

    for i in range(30, 70):  # 40 of 70 leave: 57%
        del members.members[("vip", f"p{i}")]
    publish(warehouse, members, AS_OF + timedelta(days=2))
    moved = result(check(warehouse, manifest), "segment_volume")
    assert moved.status == "failed" and moved.segment == "vip"
    assert moved.observed == pytest.approx(40 / 70)

    # The next run changes nothing, but the sync would still send the held jump: still held,
    # under the same failure id, until someone approves it.
    publish(warehouse, members, AS_OF + timedelta(days=3))
    still = result(check(warehouse, manifest), "segment_volume")
    assert still.status == "failed" and still.holds and still.failure_id == moved.failure_id
    assert "still held since run" in still.message
    assert moved.failure_id is not None
    approve_failure(Settings(warehouse=warehouse), moved.failure_id, "marketer")
    assert result(check(warehouse, manifest), "segment_volume").status == "passed"

    for i in range(70, 87):  # 17 of 30 leave: 57% again, within a segment's own threshold
        del members.members[("vip", f"p{i}")]
    publish(warehouse, members, AS_OF + timedelta(days=4))
    lenient = configs(max_change_fraction=0.6)
    assert result(check(warehouse, manifest, lenient), "segment_volume").status == "passed"


def test_an_emptied_segment_is_not_taken_for_a_new_one(
    warehouse: Warehouse, manifest: Path
) -> None:
    raw_rows(warehouse, customers=10, orders=5, newest=AS_OF)
    members = store(50)
    publish(warehouse, members, AS_OF)
    check(warehouse, manifest)
    publish(warehouse, Store(people=members.people), AS_OF + timedelta(days=1))
    emptied = result(check(warehouse, manifest), "segment_volume")
    assert emptied.status == "failed" and emptied.observed == 1.0
    publish(warehouse, members, AS_OF + timedelta(days=2))
    refilled = result(check(warehouse, manifest), "segment_volume")
    assert refilled.status == "failed" and refilled.holds


def test_a_share_exactly_at_the_threshold_passes(warehouse: Warehouse, manifest: Path) -> None:
    raw_rows(warehouse, customers=10, orders=5, newest=AS_OF)
    publish(warehouse, store(100, email=lambda i: None if i < 29 else f"p{i}@x.com"), AS_OF)
    at_limit = configs(max_null_key_fraction=0.29)  # 0.29 * 100 is 28.999999999999996
    assert result(check(warehouse, manifest, at_limit), "payload_null_keys").status == "passed"


def test_checks_before_any_build_say_to_build_first(warehouse: Warehouse, manifest: Path) -> None:
    with connect(warehouse) as connection:
        connection.exec_driver_sql("drop table analytics.contact_consent")
    with pytest.raises(CohortflowError, match="run `cohortflow run`"):
        check(warehouse, manifest)


def test_sms_routed_members_need_sms_consent(warehouse: Warehouse, manifest: Path) -> None:
    raw_rows(warehouse, customers=10, orders=5, newest=AS_OF)
    people = {f"p{i}": Person(f"p{i}", None, f"+1555010{i:04d}") for i in range(4)}
    publish(warehouse, Store(people=people, members={("vip", p): {} for p in people}), AS_OF)
    sms = configs(destination="sms", key="phone")
    with connect(warehouse) as connection:
        connection.execute(
            sa.text("insert into analytics.contact_consent values ('sms', :a, :s, :at, 'test')"),
            [{"a": f"+1555010{i:04d}", "s": "subscribed", "at": AS_OF} for i in range(4)],
        )
    assert result(check(warehouse, manifest, sms), "consent_sms").status == "passed"

    with connect(warehouse) as connection:
        connection.exec_driver_sql(
            "update analytics.contact_consent set status = 'unsubscribed' "
            "where address = '+15550100002'"
        )
    refused = result(check(warehouse, manifest, sms), "consent_sms")
    assert refused.status == "failed" and [s["person_id"] for s in refused.samples] == ["p2"]


def test_sms_consent_is_checked_on_the_phone_texted_whatever_the_key(
    warehouse: Warehouse, manifest: Path
) -> None:
    raw_rows(warehouse, customers=10, orders=5, newest=AS_OF)
    people = {f"p{i}": Person(f"p{i}", f"p{i}@x.com", f"+1555010{i:04d}") for i in range(3)}
    people["p3"] = Person("p3", "p3@x.com", None)
    publish(warehouse, Store(people=people, members={("vip", p): {} for p in people}), AS_OF)
    with connect(warehouse) as connection:
        connection.execute(
            sa.text(
                "insert into analytics.contact_consent values ('sms', :a, 'subscribed', :at, 't')"
            ),
            [{"a": f"+1555010{i:04d}", "at": AS_OF} for i in range(3)],
        )
    by_email = result(
        check(warehouse, manifest, configs(destination="sms", key="email")), "consent_sms"
    )
    assert by_email.status == "failed", "p3 has no phone to consent on"
    assert [s["person_id"] for s in by_email.samples] == ["p3"]


def test_email_consent_held_without_any_warehouse_record_fails(
    warehouse: Warehouse, manifest: Path
) -> None:
    raw_rows(warehouse, customers=10, orders=5, newest=AS_OF)
    members = store(3)
    members.consent = {"p0@example.com": "subscribed", "p1@example.com": "unsubscribed"}
    publish(warehouse, members, AS_OF)
    check(warehouse, manifest)  # creates the state tables
    with connect(warehouse) as connection:
        connection.execute(
            sa.text(
                "insert into cohortflow_state.sync_consents values "
                "('klaviyo', 'email', :a, 'subscribed', :at)"
            ),
            [{"a": a, "at": AS_OF} for a in ("p0@example.com", "p1@example.com")],
        )
    # p1's record says unsubscribed: the next sync withdraws it, so that is not a failure.
    assert result(check(warehouse, manifest), "consent_email").status == "passed"

    members.consent = {"p1@example.com": "unsubscribed"}  # p0's record vanished from the load
    publish(warehouse, members, AS_OF)
    lost = result(check(warehouse, manifest), "consent_email")
    assert lost.status == "failed" and lost.destination == "klaviyo" and lost.observed == 1


def test_sms_consent_held_without_any_warehouse_record_fails_where_sms_consent_is_carried(
    warehouse: Warehouse, manifest: Path
) -> None:
    raw_rows(warehouse, customers=10, orders=5, newest=AS_OF)
    people = {f"p{i}": Person(f"p{i}", f"p{i}@example.com", f"+1555010{i:04d}") for i in range(2)}
    members = Store(people=people, members={("vip", p): {} for p in people})
    members.sms_consent = {"+15550100000": "subscribed"}
    publish(warehouse, members, AS_OF)
    omnisend = configs(destination="omnisend", key="phone")
    check(warehouse, manifest, omnisend)  # creates the state tables
    with connect(warehouse) as connection:
        connection.execute(
            sa.text(
                "insert into cohortflow_state.sync_consents values "
                "('omnisend', 'sms', :a, 'subscribed', :at)"
            ),
            [{"a": a, "at": AS_OF} for a in ("+15550100000", "+15550100001")],
        )
    lost = result(check(warehouse, manifest, omnisend), "consent_sms_record")
    assert lost.status == "failed" and lost.destination == "omnisend" and lost.observed == 1
    assert [s["address"] for s in lost.samples] == ["+155***01"]
    assert result(check(warehouse, manifest, omnisend), "consent_email").status == "passed"
    # Klaviyo carries no SMS consent: it has no such check to pass or fail.
    assert not [r for r in check(warehouse, manifest).results if r.check == "consent_sms_record"]


# ---------------------------------------------------------------- scope and approval


def test_a_failure_holds_only_its_segment_until_approved(
    warehouse: Warehouse, manifest: Path
) -> None:
    raw_rows(warehouse, customers=10, orders=5, newest=AS_OF)
    members = store(10, email=lambda i: None)
    members.members.update({("other", p): {} for p in ("p0", "p1")})
    members.people.update({p: Person(p, f"{p}@example.com") for p in ("p0", "p1")})
    members.members.update({("vip", p): {} for p in ("p2",)})
    publish(warehouse, members, AS_OF)
    both = {
        **configs(),
        "other": parse_segment_config("other", {"destinations": {"klaviyo": {"list": "Others"}}}),
    }
    report = check(warehouse, manifest, both)
    assert set(report.holds_for("klaviyo", ["vip", "other"])) == {"vip"}, report.holding

    failure = result(report, "payload_null_keys", "klaviyo/vip")
    assert failure.failure_id is not None
    approve_failure(Settings(warehouse=warehouse), failure.failure_id, "marketer")
    again = check(warehouse, manifest, both)
    approved = result(again, "payload_null_keys", "klaviyo/vip")
    assert approved.status == "failed" and approved.approved_by == "marketer"
    assert not again.holding


def test_a_non_blocking_raw_table_reports_its_failure_without_holding_syncs(
    warehouse: Warehouse, tmp_path: Path
) -> None:
    path = tmp_path / "lenient.json"
    config = {"meta": {"cohortflow": {"min_rows": 1, "blocking": False}}}
    source = {"source_name": "raw", "name": "orders", "config": config}
    path.write_text(json.dumps({"sources": {"source.cohortflow.raw.orders": source}}))
    publish(warehouse, store(30), AS_OF)
    raw_rows(warehouse, customers=10, orders=0, newest=AS_OF)
    report = check(warehouse, path)
    empty = result(report, "raw_completeness", "raw.orders")
    assert empty.status == "failed" and not empty.holds and empty.label == "failed (warns)"
    assert empty in report.warnings and not report.holds_for("klaviyo", ["vip"])
