"""Text 10,000 people who entered an SMS segment, through the Twilio sandbox at its send limit.

The sandbox (`activations.sandbox.twilio`) caps CreateMessage at its default send limit (100
requests per API second, sliding) and moves a message queued -> sent -> delivered within 3 API
seconds. cohortflow's client is paced to the same 100 sends per second
(`TWILIO_MESSAGES_PER_SECOND`) and reads statuses at its own 600 reads per minute; everything
runs at one time scale (API seconds per wall second, `COHORTFLOW_TIME_SCALE`) shared by the
sandbox, cohortflow's client and the baseline.

Setup (not timed), in a DuckDB warehouse in a temporary directory: segment `bench`, keyed by
phone, texting entries with `dbt_project/sms/winback.txt`, has EXISTING members when it is
recorded and synced once: the SMS baseline, which texts nobody. Then MESSAGES new people enter,
each with a phone, an SMS consent ("subscribed") and a customer time zone where it is about
midday when the benchmark starts (a fixed-offset zone: no quiet hours, no daylight saving), so
every text may go at once. The two runs are recorded an hour apart, within the send window of
the sync's own clock. The timed step is one `run_sync` of the `sms` destination in a child
process: plan the outbox rows (query, render, insert), read the STOP replies, decide each text
with the rules, mark it `sending`, send it, mark it `sent`, then fetch each status and record
the delivered ones. Afterwards the sandbox must hold exactly MESSAGES texts, one to each new
member and none to anyone else, or the benchmark fails.

The baseline, measured in the same run: a bare integration doing the same HTTP work with the
same client (`open_twilio`: same pacing, same retries) against the same sandbox, but no
warehouse, no rules and no outbox: MESSAGES `TwilioMessages.send` calls with the same rendered
body, then one `fetch` of each sid.

Reported: the time of each and the ratio sync / baseline; the overhead per message,
(sync - baseline) / messages, in total and for the send and status phases alone; HTTP requests
per message; and where the sync's time went. That split times the sync's own structure in the
child by wrapping what it calls (nothing in activations/ changes; the wrappers cost microseconds
per call): the planning, each step of `Sender.deliver`, every rule decision (`decide_text`),
every outbox transaction (`Sender._move`: open the warehouse, update one row, commit) and every
HTTP request (`sync_setup.instrument`). After the timed sync, the same outbox update is timed
through one connection held open (still a commit per move) on PROBE_MOVES of its rows: the part
of a move that is opening and closing the DuckDB file, not the update.

Why a time scale: at real time the sends alone need MESSAGES / 100 s (100 s for 10,000), but the
status read is held to 600 fetches per minute, so reading 10,000 statuses back needs 16 minutes,
for the sync and the baseline alike. The default scale of 10 makes that 96 s. It speeds up only
what is rate-limited (sends allowed at 1,000 per wall second, fetches at 100): cohortflow's own
work per message does not shrink, so the send phase shows that work against a bare integration
the limit barely holds back, and the notes say whether it keeps up with 100 texts a second. The
real-time estimate takes each phase as the longer of its time here and its floor at time scale 1.
The sync's own time does not depend on the scale: ~13 minutes for 10,000 texts on a 2-core
machine, almost all of it outbox transactions (the whole benchmark ~15 minutes).

    python -m benchmarks.sms_sync [--messages 10000] [--time-scale 10]
"""

from __future__ import annotations

import argparse
import functools
import json
import math
import os
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from benchmarks import sync_setup
from benchmarks.measure import StepResult
from benchmarks.sync_setup import SCHEMAS, SEGMENT, instrument

MESSAGES, EXISTING, TIME_SCALE = 10_000, 1_000, 10.0
PROBE_MOVES = 200  # outbox moves timed through one held connection, after the sync
MODULE = "benchmarks.sms_sync"
ACCOUNT_SID = "AC" + "5b" * 16
AUTH_TOKEN = "sms-bench-token-8f21"
TEMPLATE = "winback"  # dbt_project/sms/winback.txt: "Hi {{ first_name }}, we miss you! ..."
# The sync's steps in the order it runs them (the names its wrappers record).
PHASES = ("plan", "read STOP replies", "settle in doubt", "send due", "read statuses")
SENDER_STEPS = dict(
    zip(("_read_stops", "_settle_in_doubt", "_send_due", "_read_statuses"), PHASES[1:], strict=True)
)


def phone(i: int) -> str:
    """The phone of benchmark person `i` (as `publish` writes it)."""
    return f"+1415{i:07d}"


def baseline_phone(i: int) -> str:
    """The baseline's recipient `i`: nobody the sync texts."""
    return f"+1416{i:07d}"


def midday_zone(now: datetime) -> str:
    """A fixed-offset zone whose wall clock shows 12:xx (13:xx at 12 UTC, `Etc/GMT` being a
    default that places nobody) at `now`, so texts are allowed for the next eight hours."""
    hours = (12 - now.hour) or 1
    return f"Etc/GMT{-hours:+d}"  # POSIX signs: Etc/GMT-3 is UTC+3


def limits() -> dict[str, tuple[int, float]]:
    """(requests, window in API seconds) of the sandbox's send limit and of the client's status
    reads, read from the code that enforces them."""
    from activations.destinations.twilio import TwilioMessages, TwilioSettings
    from activations.sandbox.twilio import DEFAULT_SEND_LIMIT
    from activations.secrets import Secret

    settings = TwilioSettings("AC", Secret("-"), {"From": "+1"})
    reads = TwilioMessages(settings, None)._reads  # type: ignore[arg-type]  # nothing is sent
    return {
        "sends": (DEFAULT_SEND_LIMIT.count, DEFAULT_SEND_LIMIT.window),
        "reads": (reads.steady, 60.0),
    }


def per_second(limit: tuple[int, float]) -> float:
    count, window = limit
    return count / window


def floor_seconds(calls: int, limit: tuple[int, float]) -> float:
    """API seconds from the first to the last of `calls` under a sliding window of `limit`, calls
    taking no time: the n-th waits for the (n - count)-th to leave the window."""
    count, window = limit
    return window * math.floor((calls - 1) / count) if calls else 0.0


# --- child steps: each runs in its own process -------------------------------------------------


def publish(database: str, members: int, people: int, as_of: str, zone: str) -> None:
    """The three models a sync reads, in bulk SQL: people 0..people-1 with a phone in `zone`
    and an SMS consent from a day before `as_of`, members 0..members-1 with a first name; then
    the run recorded with `detect_changes`."""
    import duckdb

    from activations.changes import detect_changes
    from activations.warehouse import Warehouse, connect

    consented = datetime.fromisoformat(as_of) - timedelta(days=1)
    with duckdb.connect(database) as con:
        con.execute("create schema if not exists analytics")
        con.execute(
            "create or replace table analytics.dim_person as select printf('p%08d', range) "
            "as person_id, printf('person%08d@example.com', range) as email, "
            f"printf('+1415%07d', range) as phone, '{zone}' as timezone from range({people})"
        )
        con.execute(
            "create or replace table analytics.segment_membership as select segment, "
            "person_id, email, phone, traits, md5(traits) as traits_hash from (select 'bench' "
            "as segment, *, '{\"first_name\":\"' || person_id || '\"}' as traits "
            f"from analytics.dim_person where person_id < printf('p%08d', {members}))"
        )
        con.execute(
            "create or replace table analytics.contact_consent as select 'sms' as channel, "
            "phone as address, 'subscribed' as status, ?::timestamp as consented_at, "
            "'bench' as source from analytics.dim_person",
            [consented],
        )
    with connect(Warehouse.from_location(database)) as connection:
        detect_changes(connection, **SCHEMAS, as_of=datetime.fromisoformat(as_of))


def sync(database: str, environ: Mapping[str, str]) -> dict[str, Any]:
    """One `run_sync` of the sms destination, timed, with its spans (`instrument_sms`)."""
    from activations.runner import run_sync
    from activations.segment_config import parse_segment_config
    from activations.settings import Settings
    from activations.warehouse import Warehouse

    meta = {
        "key": "phone",
        "traits": ["first_name"],
        "destinations": {"sms": {"on_enter": TEMPLATE}},
    }
    spans: list[dict[str, Any]] = []
    instrument_sms(spans)
    started = time.monotonic()
    report = run_sync(
        Settings(warehouse=Warehouse.from_location(database)),
        destination="sms",
        configs={SEGMENT: parse_segment_config(SEGMENT, meta)},
        environ=environ,
    )
    seconds = time.monotonic() - started
    return {
        "report": report.as_dict(),
        "seconds": seconds,
        "spans": spans,
        "held_move_seconds": held_moves(Warehouse.from_location(database), PROBE_MOVES),
    }


def held_moves(warehouse: Any, count: int) -> float:
    """Seconds per outbox move through one connection held open, each move still its own
    committed transaction: what the sync's moves cost without opening the warehouse for each.
    Run after the timed sync, on `count` of its rows, writing each row's state again as it is."""
    from activations.sms import outbox
    from activations.sms.outbox import Transition

    schema = SCHEMAS["state_schema"]
    now = datetime.now(UTC).replace(tzinfo=None)
    engine = warehouse.engine()
    try:
        with engine.connect() as connection:
            with connection.begin():
                rows = outbox.rows(connection, schema, limit=count)
            started = time.monotonic()
            for row in rows:
                with connection.begin():
                    same = Transition(row.message_id, row.status)  # type: ignore[arg-type]
                    outbox.move(connection, schema, [same], now)
            return (time.monotonic() - started) / max(len(rows), 1)
    finally:
        engine.dispose()


def instrument_sms(spans: list[dict[str, Any]]) -> None:
    """Record the sync's steps, rule decisions, outbox writes and HTTP requests in `spans`."""
    from activations.sms import outbox, sender
    from activations.sms import sync as sms_sync
    from activations.sms.sender import Sender

    instrument(spans, _operation)
    wrapped: list[tuple[object, str, str, Any]] = [
        (sms_sync, "plan_segment", "phase", "plan"),  # as run_sms imported it
        *((Sender, method, "phase", name) for method, name in SENDER_STEPS.items()),
        (sender, "decide_text", "rules", "decide"),
        (outbox, "add", "outbox", "insert planned rows"),
        (Sender, "_move", "outbox", lambda _, moved: f"-> {moved.status}"),
    ]
    for owner, attribute, kind, name in wrapped:
        setattr(owner, attribute, _timed(spans, kind, getattr(owner, attribute), name))


def _timed(
    spans: list[dict[str, Any]], kind: str, function: Callable[..., Any], name: Any
) -> Callable[..., Any]:
    """`function`, recording each call's start and duration as a span of `kind` named `name`
    (or `name(*args)`)."""

    @functools.wraps(function)
    def timed(*args: Any, **kwargs: Any) -> Any:
        started = time.monotonic()
        try:
            return function(*args, **kwargs)
        finally:
            label = name(*args) if callable(name) else name
            seconds = time.monotonic() - started
            spans.append({"kind": kind, "operation": label, "start": started, "seconds": seconds})

    return timed


def _operation(method: str, path: str, limit: Any) -> str:
    """A Twilio call as the spec names it."""
    return {"POST": "CreateMessage"}.get(method) or (
        "FetchMessage" if "/Messages/" in path else "ListMessage"
    )


def baseline(messages: int, environ: Mapping[str, str]) -> dict[str, Any]:
    """The bare integration: `messages` sends with the segment's body, then a fetch of each."""
    from activations.destinations.sms import TEMPLATE_DIR
    from activations.destinations.twilio import Accepted, open_twilio
    from activations.sms.templates import load_template
    from activations.transform import DBT_PROJECT_DIR

    template = load_template(DBT_PROJECT_DIR / TEMPLATE_DIR / f"{TEMPLATE}.txt")
    with open_twilio(environ) as twilio:
        started = time.monotonic()
        outcomes = [
            twilio.send(baseline_phone(i), template.render({"first_name": f"b{i:08d}"}))
            for i in range(messages)
        ]
        sent = time.monotonic()
        statuses = Counter(twilio.fetch(o.sid).status for o in outcomes if isinstance(o, Accepted))
        finished = time.monotonic()
        stats = twilio.client.stats.as_dict()
    return {
        "send_seconds": sent - started,
        "read_seconds": finished - sent,
        "statuses": statuses,
        "stats": stats,
    }


# --- the run, in this process: sandbox, children, checks ---------------------------------------


@dataclass(frozen=True)
class Phase:
    """One step of the timed sync and where its wall time went."""

    name: str
    wall: float
    http: float
    waited: float
    rules: float
    outbox: float
    requests: int

    @property
    def other(self) -> float:
        return self.wall - self.http - self.waited - self.rules - self.outbox


@dataclass(frozen=True)
class Cost:
    """A kind of call the sync made: how many, and how long they took in all."""

    name: str
    calls: int
    seconds: float


@dataclass(frozen=True)
class Result:
    """Everything the report shows."""

    messages: int
    time_scale: float
    zone: str
    sync_seconds: float
    sync_process: StepResult
    report: dict[str, Any]
    phases: list[Phase]
    costs: list[Cost]
    baseline_send_seconds: float
    baseline_read_seconds: float
    baseline_stats: dict[str, Any]
    limits: dict[str, tuple[int, float]]
    held_move_seconds: float
    load: float

    @property
    def baseline_seconds(self) -> float:
        return self.baseline_send_seconds + self.baseline_read_seconds

    @property
    def ratio(self) -> float:
        return self.sync_seconds / self.baseline_seconds

    def phase(self, name: str) -> Phase:
        return next(p for p in self.phases if p.name == name)

    def overhead_ms(self, sync_seconds: float, baseline_seconds: float) -> float:
        """Milliseconds per message the sync took beyond the baseline."""
        return (sync_seconds - baseline_seconds) / self.messages * 1000

    def floor(self, kind: str, scale: float | None = None) -> float:
        """Wall seconds `messages` calls of `kind` (`limits`) need at least, at this run's time
        scale or at `scale`."""
        return floor_seconds(self.messages, self.limits[kind]) / (scale or self.time_scale)

    def real_time(self, sends: float, reads: float, rest: float = 0.0) -> float:
        """Estimated wall seconds at time scale 1 of a run whose send phase took `sends`, whose
        status phase took `reads` and whose other work took `rest` here: only the limits slow
        down, so each phase takes the longer of its own work and its floor at real time."""
        return max(sends, self.floor("sends", 1.0)) + max(reads, self.floor("reads", 1.0)) + rest


def run(messages: int, scale: float) -> Result:
    """Set up, time the sync, check it landed, measure the baseline, and compute the results."""
    from activations.sandbox import SandboxServer
    from activations.sandbox.twilio import DEFAULT_SENDER, TwilioSandbox

    now = datetime.now(UTC).replace(tzinfo=None, microsecond=0)
    zone = midday_zone(now)
    people = EXISTING + messages
    app = TwilioSandbox(ACCOUNT_SID, AUTH_TOKEN, senders=(DEFAULT_SENDER,), time_scale=scale)
    with (
        tempfile.TemporaryDirectory(prefix="cohortflow-bench-") as tmp,
        SandboxServer(app.app) as server,
    ):
        folder = Path(tmp)
        database = str(folder / "warehouse.duckdb")
        environ = {
            "TWILIO_ACCOUNT_SID": ACCOUNT_SID,
            "TWILIO_AUTH_TOKEN": AUTH_TOKEN,
            "TWILIO_FROM": DEFAULT_SENDER,
            "TWILIO_BASE_URL": server.url,
            "TWILIO_MESSAGES_PER_SECOND": f"{per_second(limits()['sends']):.0f}",
        }

        def child(step: str, **params: Any) -> tuple[Any, StepResult]:
            arguments = ["--params", json.dumps(params)]
            return sync_setup.child(MODULE, step, arguments, scale, folder)

        def publish_step(members: int, hours_ago: int) -> None:
            as_of = (now - timedelta(hours=hours_ago)).isoformat()
            child(
                "publish", database=database, members=members, people=people, zone=zone, as_of=as_of
            )

        publish_step(EXISTING, 2)
        child("sync", database=database, environ=environ)
        check_texted(app, set(), "the SMS baseline")
        publish_step(people, 1)  # within the send window of the sync's own clock
        timed, process = child("sync", database=database, environ=environ)
        load = os.getloadavg()[1]  # others' work slows the sync's on a shared machine
        check_texted(app, {phone(i) for i in range(EXISTING, people)}, "the timed sync")
        check_report(timed["report"], messages)
        measured, _ = child("baseline", messages=messages, environ=environ)
        check_baseline(measured["statuses"], messages)
    return Result(
        messages=messages,
        time_scale=scale,
        zone=zone,
        sync_seconds=timed["seconds"],
        sync_process=process,
        report=timed["report"],
        phases=phases(timed["spans"]),
        costs=costs(timed["spans"]),
        baseline_send_seconds=measured["send_seconds"],
        baseline_read_seconds=measured["read_seconds"],
        baseline_stats=measured["stats"],
        limits=limits(),
        held_move_seconds=timed["held_move_seconds"],
        load=load,
    )


def check_texted(app: Any, expected: set[str], step: str) -> None:
    """Fail loudly unless the sandbox accepted exactly one text to each of `expected` and none
    to anyone else: a sync that lost or doubled texts must not be reported as a fast one."""
    with app.state.lock:
        texted = Counter(str(m.to) for m in app.state.outbound)
    twice = sum(1 for n in texted.values() if n > 1)
    if set(texted) != expected or twice:
        raise RuntimeError(
            f"{step} did not text each new member once: {sum(texted.values()):,} texts, "
            f"{len(set(texted) - expected):,} to someone else, {len(expected - set(texted)):,} "
            f"missing, {twice:,} people texted twice"
        )


def check_report(report: Mapping[str, Any], messages: int) -> None:
    (segment,) = report["segments"]
    if segment["events"] != messages or segment["failed_events"] or segment["skipped_events"]:
        raise RuntimeError(f"the timed sync's report says {segment}")


def check_baseline(statuses: Mapping[str, int], messages: int) -> None:
    """Every one of the baseline's sends was accepted (and its status read)."""
    if sum(statuses.values()) != messages:
        raise RuntimeError(f"{sum(statuses.values())} of the baseline's {messages} were accepted")


def phases(spans: Iterable[Mapping[str, Any]]) -> list[Phase]:
    """Each step of the sync with the spans that started inside it."""
    spans = list(spans)
    found = []
    for step in (s for s in spans if s["kind"] == "phase"):
        end = step["start"] + step["seconds"]
        inside = [s for s in spans if s["kind"] != "phase" and step["start"] <= s["start"] < end]

        def total(kind: str, field: str = "seconds", inside: list[Any] = inside) -> float:
            return float(sum(s[field] for s in inside if s["kind"] == kind))

        found.append(
            Phase(
                name=step["operation"],
                wall=step["seconds"],
                http=total("http") - total("http", "waited"),
                waited=total("http", "waited"),
                rules=total("rules"),
                outbox=total("outbox"),
                requests=int(total("http", "attempts")),
            )
        )
    return sorted(found, key=lambda p: PHASES.index(p.name))


def costs(spans: Iterable[Mapping[str, Any]]) -> list[Cost]:
    """Calls by kind and name: rule decisions, outbox writes, HTTP round trips and waits."""
    calls: Counter[tuple[str, str]] = Counter()
    seconds: Counter[tuple[str, str]] = Counter()
    for span in spans:
        if span["kind"] == "phase":
            continue
        key = (span["kind"], span["operation"])
        calls[key] += 1
        seconds[key] += span["seconds"] - span.get("waited", 0.0)
        if span.get("waited"):
            seconds[("waiting", span["operation"])] += span["waited"]
            calls[("waiting", span["operation"])] += 1
    order = ("rules", "outbox", "http", "waiting")
    return [
        Cost(f"{kind}: {name}", calls[kind, name], seconds[kind, name])
        for kind, name in sorted(calls, key=lambda key: (order.index(key[0]), key[1]))
    ]


# --- the report ----------------------------------------------------------------------------------


def report(result: Result) -> str:
    """The sync against the bare integration, where the time went, and what it means."""
    r = result
    n = r.messages
    sync = r.report
    send, read = r.phase("send due"), r.phase("read statuses")
    rest = r.sync_seconds - send.wall - read.wall
    real_sync = r.real_time(send.wall, read.wall, rest)
    real_baseline = r.real_time(r.baseline_send_seconds, r.baseline_read_seconds)
    rows = [
        (
            f"whole sync: plan, send, read statuses (child process {r.sync_process.seconds:.1f} "
            f"s, peak {r.sync_process.peak_mib:.0f} MiB)",
            r.sync_seconds,
            r.baseline_seconds,
        ),
        (
            f"send phase (decide, mark, send, mark) vs {n:,} sends",
            send.wall,
            r.baseline_send_seconds,
        ),
        (f"status phase vs {n:,} fetches", read.wall, r.baseline_read_seconds),
        ("whole sync at real time (estimate, see the notes)", real_sync, real_baseline),
    ]
    lines = [
        f"One `run_sync` of the `sms` destination texting {n:,} new members of segment "
        f"`{SEGMENT}` (template `{TEMPLATE}`, default rules, every recipient consented and at "
        f"midday in `{r.zone}`), after an SMS baseline of {EXISTING:,} members who got no text, "
        f"into the Twilio sandbox at its send limit ({per_second(r.limits['sends']):.0f}/s; "
        f"cohortflow paced to it, status reads at its own {r.limits['reads'][0]} per "
        f"{r.limits['reads'][1]:g} s), time scale "
        f"**{r.time_scale:g}**. DuckDB warehouse; setup is not timed. The sandbox was checked to "
        f"hold exactly one text to each of the {n:,} and none to anyone else. Bare integration: "
        "the same sends and status fetches through the same client, no warehouse, rules or "
        f"outbox. 5-minute load average when the timed sync ended: {r.load:.1f} on "
        f"{os.cpu_count()} cores.",
        "",
        "| measure | cohortflow sync (s) | bare integration (s) | ratio | overhead per message |",
        "|---|---:|---:|---:|---:|",
        *(
            f"| {name} | {mine:.1f} | {bare:.1f} | {mine / bare:.2f}x | "
            f"{r.overhead_ms(mine, bare):.2f} ms |"
            for name, mine, bare in rows
        ),
        "| HTTP requests per message (retries; answered 429) | "
        + " | ".join(
            f"{stats['requests'] / n:.4f} ({stats['retries']}; {stats['rate_limited']})"
            for stats in ({**sync, "requests": sync["api_calls"]}, r.baseline_stats)
        )
        + " | | |",
        f"| floor at the limits: sends + status reads (sliding windows, calls instant) | "
        f"{r.floor('sends'):.1f} + {r.floor('reads'):.1f} | | | |",
        "",
        "Where the sync's time went, per step (wall seconds; HTTP: inside requests, round trip "
        "and sandbox; waiting: cohortflow's rate limiter and retry backoff; rules: `decide_text`; "
        "outbox: writes to `sms_outbox`, one committed transaction per move; other: queries, "
        "rendering, Python).",
        "",
        "| step | requests | wall | HTTP | waiting | rules | outbox | other |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for p in r.phases:
        lines.append(
            f"| {p.name} | {p.requests:,} | {p.wall:.2f} | {p.http:.2f} | {p.waited:.2f} | "
            f"{p.rules:.2f} | {p.outbox:.2f} | {p.other:.2f} |"
        )
    outside = r.sync_seconds - sum(p.wall for p in r.phases)
    lines += [
        f"| outside the steps (migrations, SMS baseline, Twilio client, outbox counts) | 0 | "
        f"{outside:.2f} | | | | | {outside:.2f} |",
        "",
        "| call | calls | seconds | ms per call | ms per message |",
        "|---|---:|---:|---:|---:|",
    ]
    lines += [
        f"| {c.name} | {c.calls:,} | {c.seconds:.2f} | {c.seconds / c.calls * 1000:.3f} | "
        f"{c.seconds / n * 1000:.3f} |"
        for c in r.costs
        if c.calls
    ]
    lines += ["", *notes(r)]
    return "\n".join(lines)


def notes(r: Result) -> list[str]:
    """What dominated, whether the sends keep up with the limit, and what the scale hides."""
    n = r.messages
    moves = [c for c in r.costs if c.name.startswith("outbox: ->")]
    move_ms = sum(c.seconds for c in moves) / sum(c.calls for c in moves) * 1000
    held_ms = r.held_move_seconds * 1000
    outbox = sum(p.outbox for p in r.phases)
    send = r.phase("send due")
    own = (send.wall - send.waited) / n * 1000
    rate = per_second(r.limits["sends"])
    allowed = 1000 / rate
    keeps_up = "keeps up with" if own <= allowed else "cannot keep up with"
    throttled = (r.baseline_stats["rate_limited"], r.report["rate_limited"])
    return [
        f"- What dominates: the outbox, {outbox:.1f} s of the sync's {r.sync_seconds:.1f} s "
        f"({outbox / n * 1000:.1f} ms per message: {sum(c.calls for c in moves) / n:.1f} moves, "
        f"sending, sent and delivered, each {move_ms:.1f} ms). Each move opens the DuckDB file, "
        f"updates one row, commits and closes it; through one connection held open, a commit "
        f"per move as now, the same update took {held_ms:.2f} ms (measured after the sync on "
        f"{PROBE_MOVES} of its rows), so about {1 - held_ms / move_ms:.0%} of the outbox's time "
        f"is opening and closing the warehouse. The rules cost "
        f"{sum(p.rules for p in r.phases) / n * 1000:.2f} ms per message.",
        f"- Sending at real time: the send phase costs {own:.1f} ms per message (its wall time "
        f"less limiter waits), against the {allowed:.0f} ms per message the send limit allows, "
        f"so at time scale 1 cohortflow {keeps_up} the sandbox's {rate:.0f} texts "
        f"per second. The real-time estimate takes each phase as the longer of what it took "
        "here and its floor at time scale 1 (the limits slow down, the work per message does "
        "not).",
        f"- 429s (bare integration; sync): {throttled[0]}; {throttled[1]}, each retried after "
        "a backoff. The bare integration sends as fast as the limit allows, and cohortflow's "
        "limiter paces requests by when they leave while the sandbox counts them when they "
        "arrive, so at the limit's edge latency jitter can put one too many in a window.",
        f"- Time scale {r.time_scale:g}: at real time the floor is "
        f"{r.floor('sends', 1.0):.0f} s of sends and {r.floor('reads', 1.0):.0f} s of status "
        f"reads (one FetchMessage per text, {r.limits['reads'][0]} per "
        f"{r.limits['reads'][1]:g} s), for the sync and the bare integration alike.",
    ]


def main(argv: list[str] | None = None) -> str:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--messages", type=int, default=MESSAGES, help="people who enter")
    parser.add_argument("--time-scale", type=float, default=TIME_SCALE, help="API s per wall s")
    parser.add_argument("--step", choices=["publish", "sync", "baseline"], help=argparse.SUPPRESS)
    parser.add_argument("--params", type=json.loads, help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.step is not None:
        steps: dict[str, Callable[..., Any]] = {
            "publish": publish,
            "sync": sync,
            "baseline": baseline,
        }
        args.out.write_text(json.dumps(steps[args.step](**args.params)), encoding="utf-8")
        return ""
    if args.messages < 1:
        parser.error("--messages must be at least 1")
    table = report(run(args.messages, args.time_scale))
    print(table)
    return table


if __name__ == "__main__":
    main()
