"""The synthetic store: deterministic, contract-exact, dirty where documented, realistic enough.

Each test checks a property a user of the demo or the benchmarks relies on: the loader accepts
the tables, staging has the documented dirt to clean, and the lifecycle segments all have members.
"""

from __future__ import annotations

import io
import math
import re
from datetime import datetime, timedelta, timezone
from pathlib import Path

import duckdb
import phonenumbers
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from activations.raw_contract import (
    CONSENT_STATUSES,
    DECIMAL_PRECISION,
    DECIMAL_SCALE,
    EVENT_TYPES,
    MESSAGE_CHANNELS,
    MESSAGE_EVENT_TYPES,
    ORDER_STATUSES,
    RAW_TABLES,
)
from activations.synthetic import (
    DIRTY_RATES,
    HISTORY_DAYS,
    TEST_ADDRESS,
    TRUTH_TABLE,
    generate_store,
    generate_truth,
    write_store,
)

PERSONS = 2000
SEED = 11
UNTIL = datetime(2025, 6, 1, 12, 0)
ARROW_TYPES = {
    "text": pa.string(),
    "timestamp": pa.timestamp("us"),
    "decimal": pa.decimal128(DECIMAL_PRECISION, DECIMAL_SCALE),
    "integer": pa.int64(),
}
VALID_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


@pytest.fixture(scope="module")
def store() -> dict[str, pa.Table]:
    return generate_store(PERSONS, SEED, UNTIL, with_truth=True)


@pytest.fixture(scope="module")
def db(store: dict[str, pa.Table]) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    for name, table in store.items():
        con.register(name, table)
    con.execute(f"SET VARIABLE until = TIMESTAMP '{UNTIL.isoformat(sep=' ')}'")
    return con


def scalar(db: duckdb.DuckDBPyConnection, sql: str) -> int | float:
    row = db.execute(sql).fetchone()
    assert row is not None
    return row[0]  # type: ignore[no-any-return]


def assert_rate(hits: int, total: int, rate: float) -> None:
    """hits/total is consistent with `rate`: within 4 binomial standard deviations (+1 row)."""
    assert total > 0
    slack = 4 * math.sqrt(total * rate * (1 - rate)) + 1
    assert abs(hits - total * rate) <= slack, f"{hits}/{total} = {hits / total:.4f}, want {rate}"


def ipc_bytes(table: pa.Table) -> bytes:
    sink = io.BytesIO()
    with pa.ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table)
    return sink.getvalue()


def is_valid_phone(raw: str, region: str | None) -> bool:
    try:
        return phonenumbers.is_valid_number(phonenumbers.parse(raw, region or "US"))
    except phonenumbers.NumberParseException:
        return False


# -- determinism and contract ------------------------------------------------------------------


def test_same_arguments_give_byte_identical_tables(store: dict[str, pa.Table]) -> None:
    again = generate_store(PERSONS, SEED, UNTIL)
    assert set(again) == {spec.name for spec in RAW_TABLES}
    for spec in RAW_TABLES:
        assert ipc_bytes(again[spec.name]) == ipc_bytes(store[spec.name]), spec.name


def test_a_different_seed_gives_a_different_store(store: dict[str, pa.Table]) -> None:
    other = generate_store(PERSONS, SEED + 1, UNTIL)
    for name in ("customers", "orders", "events", "message_events"):
        assert not other[name].equals(store[name]), name


def test_every_table_matches_the_contract_schema(store: dict[str, pa.Table]) -> None:
    for spec in RAW_TABLES:
        table = store[spec.name]
        assert table.column_names == list(spec.column_names), spec.name
        for column in spec.columns:
            assert table.schema.field(column.name).type == ARROW_TYPES[column.type], (
                spec.name,
                column.name,
            )
        assert table.num_rows > 0, spec.name


def test_enum_columns_hold_only_contract_values(db: duckdb.DuckDBPyConnection) -> None:
    checks = {
        ("orders", "status"): ORDER_STATUSES,
        ("events", "event_type"): EVENT_TYPES,
        ("message_events", "channel"): MESSAGE_CHANNELS,
        ("message_events", "event_type"): MESSAGE_EVENT_TYPES,
        ("consents", "channel"): MESSAGE_CHANNELS,
        ("consents", "status"): CONSENT_STATUSES,
    }
    for (table, column), allowed in checks.items():
        values = {row[0] for row in db.execute(f"select distinct {column} from {table}").fetchall()}
        assert values <= set(allowed), (table, column, values - set(allowed))
    # Every value is actually used, so downstream models see each case.
    used = {r[0] for r in db.execute("select distinct event_type from events").fetchall()}
    assert used == set(EVENT_TYPES)
    used = {r[0] for r in db.execute("select distinct event_type from message_events").fetchall()}
    # Spam complaints are ~0.05% of sends: too rare to promise at this size.
    assert used >= set(MESSAGE_EVENT_TYPES) - {"complained"}


def test_timestamps_end_at_until_and_span_about_three_years(
    store: dict[str, pa.Table], db: duckdb.DuckDBPyConnection
) -> None:
    for spec in RAW_TABLES:
        for column in spec.columns:
            if column.type == "timestamp":
                latest = store[spec.name][column.name].to_pylist()
                assert max(latest) <= UNTIL, (spec.name, column.name)
    first_order = scalar(db, "select min(ordered_at) from orders")
    assert UNTIL - timedelta(days=HISTORY_DAYS) <= first_order < UNTIL - timedelta(days=900)
    assert scalar(db, "select max(ordered_at) from orders") > UNTIL - timedelta(days=2)


# -- dirty data at the documented rates ---------------------------------------------------------


def test_exact_duplicate_rows_at_the_documented_rate(store: dict[str, pa.Table]) -> None:
    copies = distinct = 0
    for name in ("customers", "orders", "events"):
        table = store[name]
        unique = table.group_by(table.column_names).aggregate([]).num_rows
        copies += table.num_rows - unique
        distinct += unique
    assert_rate(copies, distinct, DIRTY_RATES.duplicate_rows)


def test_emails_are_messy_and_sometimes_invalid_at_the_documented_rates(
    db: duckdb.DuckDBPyConnection,
) -> None:
    raw = db.execute(
        "select email from customers where email is not null union all "
        "select email from orders where email is not null"
    ).fetchall()
    invalid = sum(not VALID_EMAIL.match(e.strip()) for (e,) in raw)
    assert_rate(invalid, len(raw), DIRTY_RATES.invalid_email)
    everywhere = db.execute(
        "select email from customers union all select email from orders union all "
        "select email from events union all select email from consents"
    ).fetchall()
    valid = [e for (e,) in everywhere if e is not None and VALID_EMAIL.match(e.strip())]
    messy = sum(e != e.strip().lower() for e in valid)
    assert_rate(messy, len(valid), DIRTY_RATES.email_case_or_padding)
    assert any(e != e.strip() for e in valid), "some emails are space-padded"
    # A customer's order email sometimes differs only in case from the account email.
    case_only = scalar(
        db,
        "select count(*) from orders o join customers c using (customer_id) "
        "where o.email <> c.email and lower(trim(o.email)) = lower(trim(c.email))",
    )
    assert case_only > 0


def test_phones_parse_with_phonenumbers_except_documented_junk(
    db: duckdb.DuckDBPyConnection,
) -> None:
    customers = db.execute(
        "select phone, country from customers where phone is not null"
    ).fetchall()
    orders = db.execute("select phone from orders where phone is not null").fetchall()
    bad = sum(not is_valid_phone(p, c) for p, c in customers)
    bad += sum(not is_valid_phone(p, None) for (p,) in orders)
    assert_rate(bad, len(customers) + len(orders), DIRTY_RATES.junk_phone)
    # Phones are written in several local formats, not already normalised.
    assert len({re.sub(r"\d", "9", p) for p, _ in customers}) >= 15
    # Consents and SMS logs are clean: every phone parses (SMS logs are E.164).
    consents = db.execute("select phone from consents where phone is not null").fetchall()
    assert consents and all(is_valid_phone(p, None) for (p,) in consents)
    sms = db.execute("select distinct phone from message_events where phone is not null").fetchall()
    assert sms and all(re.fullmatch(r"\+\d{8,15}", p) for (p,) in sms)


def test_customer_nulls_and_order_statuses_at_the_documented_rates(
    db: duckdb.DuckDBPyConnection,
) -> None:
    customers = "(select distinct * from customers)"
    total = int(scalar(db, f"select count(*) from {customers}"))
    for column, rate in (
        ("country", DIRTY_RATES.null_country),
        ("timezone", DIRTY_RATES.null_timezone),
        ("first_name", DIRTY_RATES.null_first_name),
        ("last_name", DIRTY_RATES.null_last_name),
    ):
        nulls = int(scalar(db, f"select count(*) from {customers} where {column} is null"))
        assert_rate(nulls, total, rate)
    orders = "(select distinct * from orders)"
    total = int(scalar(db, f"select count(*) from {orders}"))
    for status, rate in (
        ("cancelled", DIRTY_RATES.cancelled_orders),
        ("refunded", DIRTY_RATES.refunded_orders),
    ):
        hits = int(scalar(db, f"select count(*) from {orders} where status = '{status}'"))
        assert_rate(hits, total, rate)


def test_shared_test_address_is_on_more_than_five_customers_and_in_no_truth(
    db: duckdb.DuckDBPyConnection,
) -> None:
    users = scalar(
        db,
        "select count(distinct customer_id) from customers "
        f"where lower(trim(email)) = '{TEST_ADDRESS}'",
    )
    assert users > 5
    assert users >= DIRTY_RATES.test_address_min_customers
    in_truth = scalar(
        db, f"select count(*) from {TRUTH_TABLE} where identifier_value = '{TEST_ADDRESS}'"
    )
    assert in_truth == 0


def test_guest_orders_carry_an_email_or_a_phone(db: duckdb.DuckDBPyConnection) -> None:
    guests = scalar(db, "select count(*) from orders where customer_id is null")
    unreachable = scalar(
        db,
        "select count(*) from orders where customer_id is null and email is null and phone is null",
    )
    assert guests > 0.05 * scalar(db, "select count(*) from orders")
    assert unreachable == 0


# -- identity -----------------------------------------------------------------------------------


def test_truth_maps_each_normalised_identifier_to_one_person(
    store: dict[str, pa.Table], db: duckdb.DuckDBPyConnection
) -> None:
    truth = store[TRUTH_TABLE]
    assert truth.column_names == ["identifier_type", "identifier_value", "person_index"]
    shared = scalar(
        db,
        f"select count(*) from (select identifier_type, identifier_value from {TRUTH_TABLE} "
        "group by all having count(distinct person_index) > 1)",
    )
    assert shared == 0
    emails = db.execute(f"select identifier_value from {TRUTH_TABLE} where identifier_type='email'")
    assert all(e == e.strip().lower() and VALID_EMAIL.match(e) for (e,) in emails.fetchall())
    phones = db.execute(f"select identifier_value from {TRUTH_TABLE} where identifier_type='phone'")
    assert all(re.fullmatch(r"\+\d{8,15}", p) for (p,) in phones.fetchall())
    # Every raw customer_id and anonymous_id is in the truth.
    for column, table in (("customer_id", "customers"), ("anonymous_id", "events")):
        missing = scalar(
            db,
            f"select count(distinct {column}) from {table} where {column} not in "
            f"(select identifier_value from {TRUTH_TABLE} where identifier_type='{column}')",
        )
        assert missing == 0, column


def test_normalising_a_customer_phone_recovers_the_true_e164(
    db: duckdb.DuckDBPyConnection,
) -> None:
    truth = {
        (v, p)
        for v, p in db.execute(
            f"select identifier_value, person_index from {TRUTH_TABLE} "
            "where identifier_type = 'phone'"
        ).fetchall()
    }
    rows = db.execute(
        "select c.phone, c.country, t.person_index from customers c join "
        f"{TRUTH_TABLE} t on t.identifier_type='customer_id' and t.identifier_value=c.customer_id "
        "where c.phone is not null"
    ).fetchall()
    checked = 0
    for raw, country, person in rows:
        if is_valid_phone(raw, country):
            parsed = phonenumbers.parse(raw, country or "US")
            e164 = phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)
            assert (e164, person) in truth, raw
            checked += 1
    assert checked > 0.9 * len(rows)


def test_person_mix_of_customers_guests_and_anonymous_visitors(
    db: duckdb.DuckDBPyConnection,
) -> None:
    kinds = db.execute(
        f"select bool_or(identifier_type='customer_id') registered, "
        f"bool_and(identifier_type='anonymous_id') anonymous from {TRUTH_TABLE} "
        "group by person_index"
    ).fetchall()
    registered = sum(r for r, _ in kinds) / PERSONS
    anonymous = sum(a for _, a in kinds) / PERSONS
    assert 0.50 < registered < 0.60
    assert 0.30 < anonymous < 0.42
    prospects = scalar(
        db,
        "select count(*) from (select distinct customer_id from customers) c "
        "where customer_id not in (select customer_id from orders where customer_id is not null)",
    )
    assert prospects > 0.15 * registered * PERSONS


def test_events_before_identify_carry_only_the_anonymous_id(
    db: duckdb.DuckDBPyConnection,
) -> None:
    counts = db.execute(
        """
        with first_identify as (
            select anonymous_id, min(occurred_at) identified_at from events
            where event_type = 'identify' group by 1
        )
        select
            count(*) filter (where e.occurred_at < f.identified_at or f.identified_at is null),
            count(*) filter (where (e.occurred_at < f.identified_at or f.identified_at is null)
                             and (e.customer_id is not null or e.email is not null))
        from events e left join first_identify f using (anonymous_id)
        """
    ).fetchone()
    assert counts is not None
    anonymous_events, leaked = counts
    assert anonymous_events > 0
    assert leaked == 0
    devices = scalar(
        db,
        f"select avg(n) from (select count(*) n from {TRUTH_TABLE} "
        "where identifier_type='anonymous_id' and person_index in (select person_index from "
        f"{TRUTH_TABLE} where identifier_type='customer_id') group by person_index)",
    )
    assert devices > 1.2, "customers browse on several devices"


# -- realism: lifecycle, consumables, abandonment, engagement ---------------------------------


def test_lifecycle_stages_all_have_plausible_shares(db: duckdb.DuckDBPyConnection) -> None:
    shares = dict(
        db.execute(
            """
            with person_orders as (
                select t.person_index person, o.ordered_at, o.total
                from (select distinct * from orders) o
                join identity_truth t on t.identifier_type = 'customer_id'
                    and t.identifier_value = o.customer_id
                where o.status = 'placed'
            ), p as (
                select person, count(*) n, max(ordered_at) last_at,
                    count(*) filter (where ordered_at > getvariable('until') - interval 365 day)
                        n365,
                    coalesce(sum(total) filter (
                        where ordered_at > getvariable('until') - interval 365 day), 0) rev365
                from person_orders group by 1
            )
            select case
                when last_at < getvariable('until') - interval 365 day then 'churned'
                when last_at < getvariable('until') - interval 90 day then 'lapsed'
                when n365 >= 4 or rev365 >= 500 then 'vip'
                when n >= 2 then 'repeat' else 'new' end,
                count(*) / sum(count(*)) over ()
            from p group by 1
            """
        ).fetchall()
    )
    assert set(shares) == {"churned", "lapsed", "vip", "repeat", "new"}
    assert 0.2 < shares["churned"] < 0.6
    assert 0.15 < shares["lapsed"] < 0.5
    for stage in ("vip", "repeat", "new"):
        assert 0.02 < shares[stage] < 0.3, (stage, shares)


def test_spend_is_skewed_with_big_spenders(db: duckdb.DuckDBPyConnection) -> None:
    row = db.execute(
        "select median(total), quantile_cont(total, 0.99), count(distinct total) "
        "from orders where status = 'placed'"
    ).fetchone()
    assert row is not None
    median, p99, _ = row
    assert 25 < median < 120
    assert p99 > 4 * median
    top = db.execute(
        "select customer_id, count(*) n, sum(total) revenue from (select distinct * from orders) "
        "where customer_id is not null and status = 'placed' "
        "and ordered_at > getvariable('until') - interval 365 day "
        "group by 1 having count(*) >= 4 or sum(total) >= 500"
    ).fetchall()
    assert len(top) >= 10, "VIP-like customers exist"
    assert max(n for _, n, _ in top) >= 8, "a few customers order very often"


def test_consumables_are_reordered_on_their_cycle_and_some_are_overdue(
    db: duckdb.DuckDBPyConnection,
) -> None:
    products = db.execute("select count(*), count(replenishment_days) from products").fetchone()
    assert products is not None
    assert 200 <= products[0] <= 500
    assert 0 < products[1] < products[0]
    cycles = {
        r[0] for r in db.execute("select distinct replenishment_days from products").fetchall()
    }
    assert {30, 60} <= cycles - {None}
    row = db.execute(
        """
        with buys as (
            select o.customer_id, i.product_id, p.replenishment_days cycle, o.ordered_at
            from (select distinct * from orders) o join order_items i using (order_id)
            join products p using (product_id)
            where p.replenishment_days is not null and o.customer_id is not null
        ), gaps as (
            select cycle, date_diff('day', lag(ordered_at) over w, ordered_at) gap,
                   row_number() over (partition by customer_id, product_id
                                      order by ordered_at desc) recent, ordered_at
            from buys window w as (partition by customer_id, product_id order by ordered_at)
        )
        select median(gap / cycle) filter (where gap is not null),
               count(*) filter (where recent = 1 and gap is not null and ordered_at
                   < getvariable('until') - to_days(cast(cycle * 1.5 as integer)))
        from gaps
        """
    ).fetchone()
    assert row is not None
    median_ratio, overdue = row
    assert 0.8 < median_ratio < 1.2, "repeat consumable buys follow replenishment_days"
    assert overdue > 0, "some consumable buyers stopped re-ordering"


def test_recent_cart_and_browse_abandoners_exist(db: duckdb.DuckDBPyConnection) -> None:
    carts = scalar(
        db,
        """
        select count(distinct e.customer_id) from events e
        where e.event_type in ('add_to_cart', 'checkout_started') and e.customer_id is not null
          and e.occurred_at > getvariable('until') - interval 48 hour
          and not exists (select 1 from orders o where o.customer_id = e.customer_id
                          and o.ordered_at > e.occurred_at)
        """,
    )
    assert carts >= 5
    browsers = scalar(
        db,
        """
        select count(distinct e.customer_id) from events e
        where e.event_type = 'product_view' and e.customer_id is not null
          and e.occurred_at > getvariable('until') - interval 5 day
          and not exists (select 1 from events c where c.customer_id = e.customer_id
                          and c.event_type = 'add_to_cart' and c.occurred_at >= e.occurred_at)
        """,
    )
    assert browsers >= 5


def test_some_subscribers_get_five_recent_sends_without_engaging(
    db: duckdb.DuckDBPyConnection,
) -> None:
    rows = db.execute(
        """
        select email,
            count(*) filter (where event_type = 'sent') sent,
            count(*) filter (where event_type in ('opened', 'clicked')) engaged
        from message_events
        where channel = 'email' and occurred_at > getvariable('until') - interval 90 day
        group by 1
        """
    ).fetchall()
    disengaged = sum(sent >= 5 and engaged == 0 for _, sent, engaged in rows)
    engaged = sum(e > 0 for _, _, e in rows)
    assert disengaged >= 10
    assert engaged > disengaged, "most subscribers still open something"


def test_message_events_of_one_message_share_recipient_campaign_and_one_send(
    db: duckdb.DuckDBPyConnection,
) -> None:
    broken = scalar(
        db,
        """
        select count(*) from (
            select message_id from message_events group by 1
            having count(*) filter (where event_type = 'sent') <> 1
                or count(distinct channel) <> 1 or count(distinct campaign) <> 1
                or count(distinct coalesce(email, phone)) <> 1
                or min(occurred_at) filter (where event_type = 'sent') <> min(occurred_at))
        """,
    )
    assert broken == 0
    sms_with_opens = scalar(
        db, "select count(*) from message_events where channel='sms' and event_type='opened'"
    )
    assert sms_with_opens == 0


def test_consents_record_opt_ins_then_some_opt_outs(db: duckdb.DuckDBPyConnection) -> None:
    rows = db.execute("select channel, status, count(*) from consents group by all").fetchall()
    counts = {(c, s): n for c, s, n in rows}
    for channel in MESSAGE_CHANNELS:
        assert 0 < counts[(channel, "unsubscribed")] < counts[(channel, "subscribed")]
    sources = {r[0] for r in db.execute("select distinct source from consents").fetchall()}
    assert {"checkout", "popup", "import"} <= sources
    wrong_channel = scalar(
        db,
        "select count(*) from consents where (channel='email' and (email is null or phone is "
        "not null)) or (channel='sms' and (phone is null or email is not null))",
    )
    assert wrong_channel == 0
    # Email messages only go to people who subscribed before receiving them.
    unsolicited = scalar(
        db,
        """
        select count(*) from (select distinct email from message_events where channel='email') m
        where m.email not in (select lower(trim(email)) from consents
                              where channel='email' and status='subscribed')
        """,
    )
    assert unsolicited == 0


def test_order_items_are_consistent_with_orders(db: duckdb.DuckDBPyConnection) -> None:
    row = db.execute(
        """
        with lines as (
            select order_id, count(*) n, max(line_number) top, min(line_number) bottom,
                   sum(quantity * unit_price) subtotal
            from order_items group by 1
        )
        select
            (select count(distinct order_id) from orders) - count(*),
            count(*) filter (where n <> top or bottom <> 1),
            count(*) filter (where o.total < l.subtotal or o.total > l.subtotal + 10)
        from lines l join (select distinct order_id, total from orders) o using (order_id)
        """
    ).fetchone()
    assert row == (0, 0, 0)
    unknown = scalar(
        db,
        "select count(*) from order_items where product_id not in "
        "(select product_id from products)",
    )
    assert unknown == 0


# -- API around generation ----------------------------------------------------------------------


def test_progress_reports_each_table_and_truth_is_opt_in() -> None:
    steps: list[str] = []
    tables = generate_store(200, 3, UNTIL, progress=steps.append)
    assert TRUTH_TABLE not in tables
    assert {spec.name for spec in RAW_TABLES} <= set(steps)
    truth = generate_truth(200, 3, UNTIL)
    assert truth.num_rows > 0
    assert set(truth["identifier_type"].to_pylist()) == {
        "customer_id",
        "email",
        "phone",
        "anonymous_id",
    }


@pytest.mark.parametrize("persons", [1, 7])
def test_tiny_stores_still_follow_the_contract(persons: int) -> None:
    tables = generate_store(persons, 5, UNTIL)
    assert [name for name in tables] == [spec.name for spec in RAW_TABLES]
    assert tables["products"].num_rows >= 200


def test_an_aware_until_means_the_same_instant_in_utc() -> None:
    aware = datetime(2025, 6, 1, 14, 0, tzinfo=timezone(timedelta(hours=2)))
    from_aware = generate_store(150, 4, aware)
    from_naive = generate_store(150, 4, UNTIL)
    assert all(from_aware[name].equals(from_naive[name]) for name in from_naive)


def test_write_store_writes_one_readable_parquet_per_table(
    store: dict[str, pa.Table], tmp_path: Path
) -> None:
    out = tmp_path / "nested" / "raw"
    counts = write_store(store, out)
    names = {spec.name for spec in RAW_TABLES}
    assert set(counts) == names
    assert {p.name for p in out.iterdir()} == {f"{name}.parquet" for name in names}
    for name in names:
        written = pq.read_table(out / f"{name}.parquet")
        assert counts[name] == written.num_rows == store[name].num_rows
        assert written.equals(store[name])
