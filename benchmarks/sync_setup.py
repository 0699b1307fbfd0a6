"""What every destination sync benchmark shares: the warehouse it syncs from, the child processes
it runs steps in, and the instrumentation that says where a sync's time went.

A benchmark publishes segment `bench` in bulk SQL (members `first .. first+count-1`, keyed by
email, canonical JSON traits), records it with `detect_changes`, and runs each step (publish,
sync, baseline) in its own child process: the sandbox serves from the parent, so its work never
competes with the sync for the GIL, and each step's wall time and peak memory are its own.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from benchmarks.measure import StepResult, run_step

SEGMENT = "bench"
SCHEMAS = {"state_schema": "cohortflow_state", "models_schema": "analytics"}
AS_OF_1 = datetime(2026, 7, 1, 12, 0, 0)
AS_OF_2 = datetime(2026, 7, 2, 12, 0, 0)
TARGET_FRACTION, TARGET_RATIO = 0.90, 100.0
SINK_METHODS = ("rows", "profile_ids", "consents", "events")
# Labels an HTTP call for the report from (method, path, limit option of the request).
Label = Callable[[str, str, Any], str]


def email(i: int) -> str:
    """The address of benchmark person `i` (as `membership_sql` writes it)."""
    return f"person{i:08d}@example.com"


def membership_sql(first: int, count: int) -> str:
    """Segment `bench`: people first .. first+count-1, keyed by email, with canonical JSON traits
    (sorted keys, no spaces, as the runner and dbt write them)."""
    return f"""
        select 'bench' as segment, person_id, email, phone, traits, md5(traits) as traits_hash
        from (
            select
                printf('p%08d', range) as person_id,
                printf('person%08d@example.com', range) as email,
                null::varchar as phone,
                printf('{{"orders":%d,"tier":"t%d"}}', range % 40, range % 3) as traits
            from range({first}, {first + count})
        )
    """


def publish(database: Path, first: int, count: int, people: int, as_of: datetime) -> None:
    """Write the three models a sync reads (people 0..people-1, members first..first+count-1,
    no consent rows) in bulk SQL, then record the run with `detect_changes`."""
    import duckdb

    from activations.changes import detect_changes
    from activations.warehouse import Warehouse, connect

    with duckdb.connect(str(database)) as con:
        con.execute("create schema if not exists analytics")
        con.execute(
            f"create or replace table analytics.segment_membership as "
            f"{membership_sql(first, count)}"
        )
        con.execute(
            "create or replace table analytics.dim_person as "
            "select person_id, email, phone from "
            f"({membership_sql(0, people)})"
        )
        con.execute(
            "create or replace table analytics.contact_consent (channel varchar, "
            "address varchar, status varchar, consented_at timestamp, source varchar)"
        )
    with connect(Warehouse.from_location(str(database))) as connection:
        detect_changes(connection, **SCHEMAS, as_of=as_of)


def timed_sync(
    database: Path, destination: str, options: dict[str, Any], environ: dict[str, str], label: Label
) -> dict[str, Any]:
    """One `run_sync` of segment `bench` to `destination`, timed, with its HTTP requests and
    ledger writes (see `instrument`)."""
    from activations.runner import run_sync
    from activations.segment_config import parse_segment_config
    from activations.settings import Settings
    from activations.warehouse import Warehouse

    raw = {"key": "email", "destinations": {destination: options}}
    configs = {SEGMENT: parse_segment_config(SEGMENT, raw)}
    spans: list[dict[str, Any]] = []
    instrument(spans, label)
    settings = Settings(warehouse=Warehouse.from_location(str(database)))
    started = time.monotonic()
    report = run_sync(settings, destination=destination, configs=configs, environ=environ)
    finished = time.monotonic()
    return {"report": report.as_dict(), "started": started, "finished": finished, "spans": spans}


def instrument(spans: list[dict[str, Any]], label: Label) -> None:
    """Record each HTTP request (with its limiter and retry waits) and each ledger write the sync
    makes, with wall start and duration, by wrapping what the runner calls; activations/ stays
    as it is. Diagnostic only: the wrappers cost microseconds per call."""
    from activations import runner
    from activations.http import HttpClient

    request = HttpClient.request

    def timed_request(self: HttpClient, method: str, path: str, **options: Any) -> Any:
        stats = self.stats
        before = (stats.requests, stats.limiter_wait_seconds + stats.retry_wait_seconds)
        started = time.monotonic()
        answered = False
        try:
            response = request(self, method, path, **options)
            answered = True
            return response
        finally:
            spans.append(
                {
                    "kind": "http",
                    "operation": label(method, path, options.get("limit")),
                    "start": started,
                    "seconds": time.monotonic() - started,
                    "attempts": stats.requests - before[0],
                    "waited": stats.limiter_wait_seconds + stats.retry_wait_seconds - before[1],
                    "answered": answered,
                }
            )

    HttpClient.request = timed_request  # type: ignore[method-assign]
    sink = runner._LedgerSink  # the runner's acknowledgement sink: every ledger write
    for name in SINK_METHODS:
        setattr(sink, name, _timed_write(getattr(sink, name), name, spans))


def _timed_write(
    method: Callable[..., None], name: str, spans: list[dict[str, Any]]
) -> Callable[..., None]:
    """`method` of the sink, recording how long each write took (its transaction included)."""

    def timed(self: Any, *args: Any, **kwargs: Any) -> None:
        started = time.monotonic()
        method(self, *args, **kwargs)
        spans.append(
            {
                "kind": "ledger",
                "operation": name,
                "start": started,
                "seconds": time.monotonic() - started,
            }
        )

    return timed


def child(
    module: str, step: str, arguments: Sequence[str], scale: float, folder: Path
) -> tuple[Any, StepResult]:
    """Run `step` of benchmark `module` in a child process at time scale `scale`; return the
    JSON it wrote and its time and memory."""
    out = folder / f"{step}.json"
    command = [sys.executable, "-m", module, "--step", step, *arguments]
    measured = run_step(
        step, [*command, "--out", str(out)], {"COHORTFLOW_TIME_SCALE": f"{scale:g}"}
    )
    return json.loads(out.read_text(encoding="utf-8")), measured


def steady_window_seconds_per_member(done: Sequence[float], window: int) -> float:
    """Wall seconds per member of a long per-record run, from a sample.

    The per-record loop is held to `window` calls per API minute: the sample's first `window`
    people ride what an idle minute allows, every later `window` wait for the minute to pass.
    So the sample's own average flatters it; the time its last `window` people took
    (completion of person m-window to person m, one full steady window) is what every further
    `window` people cost, and a run of N members takes about N times that per member.
    """
    if len(done) <= window:
        raise ValueError(f"the baseline sample must exceed {window} people")
    return (done[-1] - done[-1 - window]) / window


def main(
    argv: list[str] | None,
    doc: str | None,
    defaults: tuple[int, int, int, float],
    steps: tuple[Callable[[Path, str], Any], Callable[[str, int], Any]],
    measure: Callable[[int, int, int, float], str],
    *,
    sample_over: int,
) -> str:
    """A sync benchmark's command line: `--adds`, `--removes`, `--sample` (the per-record
    baseline's people, more than `sample_over`, its binding limit per minute) and
    `--time-scale`, defaulting to `defaults`; or, in a child process, one hidden `--step`
    (publish, sync or baseline, the latter two from `steps`). Prints and returns the report
    `measure(adds, removes, sample, time_scale)` made."""
    adds, removes, sample, scale = defaults
    parser = argparse.ArgumentParser(description=doc)
    parser.add_argument("--adds", type=int, default=adds, help="people who enter (timed sync)")
    parser.add_argument("--removes", type=int, default=removes, help="people who leave")
    parser.add_argument(
        "--sample", type=int, default=sample, help=f"baseline people (> {sample_over})"
    )
    parser.add_argument("--time-scale", type=float, default=scale, help="API s per wall s")
    parser.add_argument("--step", choices=["publish", "sync", "baseline"], help=argparse.SUPPRESS)
    parser.add_argument("--database", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    parser.add_argument("--first", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--count", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--people", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--as-of", type=datetime.fromisoformat, help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.step is not None:
        sync, baseline = steps
        found: Any = None
        if args.step == "publish":
            publish(args.database, args.first, args.count, args.people, args.as_of)
        elif args.step == "sync":
            found = sync(args.database, args.url)
        else:
            found = baseline(args.url, args.sample)
        args.out.write_text(json.dumps(found), encoding="utf-8")
        return ""
    if args.adds < 1 or args.removes < 1:
        parser.error("--adds and --removes must be at least 1")
    if args.sample <= sample_over:
        parser.error(f"--sample must exceed {sample_over} (one minute of the baseline's limit)")
    table = measure(args.adds, args.removes, args.sample, args.time_scale)
    print(table)
    return table
