"""Change detection on 1M and 10M memberships with 1% churn: cohortflow against a floor and pandas.

Each size gets one prepared DuckDB file: version 1 of `analytics.segment_membership` already
recorded by `detect_changes` (setup, not measured), then version 2 published with 1% churn
(0.4% exits, 0.4% entries, 0.2% trait updates). Every contender runs in its own child process on
a fresh copy of that file, so all start from the same state and each peak RSS is its own:

* cohortflow: `detect_changes` on version 2, the full work (change log, snapshot, history, run
  row), committed;
* floor: the same entered/exited/updated rows from a bare DuckDB `EXCEPT` both ways, written to a
  table and committed, in the same database with the same settings;
* bare full outer join: cohortflow's diff query alone into a table, committed: what the change
  log costs without the snapshot and history upkeep;
* pandas: both tables read into pandas through DuckDB (Arrow, and `.df()`), then
  `merge(how="outer", indicator=True)` and a hash comparison (the changes stay in a DataFrame);
* cohortflow with DuckDB's defaults, once: the warehouse as `cohortflow run` opens it.

The DuckDB contenders run with the dbt profile's settings (memory_limit 2GB, threads 2,
preserve_insertion_order false); the pandas reads use them too. "diff time" is measured inside
the child from opening the database until the result is committed and the database closed;
"process" adds interpreter start and imports. Every contender's counts are checked against the
churn generated. A diagnostic run of cohortflow times each statement of `detect_changes`.
Targets: cohortflow within 1.5x of the floor, at least 10x faster than pandas, peak memory under
2 GiB; the smallest size is the growth baseline.

The parent never holds data (preparing runs in a child too): on Linux a child's peak RSS starts
from its parent's at the time it was started.

    python -m benchmarks.change_detection [--sizes 1000000 10000000] [--repeat 5]
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from benchmarks.measure import run_step

WORK = Path(__file__).resolve().parent / ".work"
SEGMENTS = 8
AS_OF_1 = datetime(2026, 6, 29, 12, 0, 0)
AS_OF_2 = datetime(2026, 6, 30, 12, 0, 0)
SCHEMAS = {"state_schema": "cohortflow_state", "models_schema": "analytics"}
# The dbt profile's DuckDB settings (dbt_project/profiles.yml), for cohortflow and the floor alike.
SETTINGS: dict[str, str | int | bool] = {
    "memory_limit": "2GB",
    "threads": 2,
    "preserve_insertion_order": False,
}
# Per 1,000 rows of version 1: how many leave and how many change traits; ENTRIES new rows come in.
EXITS, UPDATES, ENTRIES = 4, 2, 4
CHANGE_KINDS = ("entered", "exited", "updated")
CONTENDERS = ("floor", "join_floor", "cohortflow", "pandas", "pandas_df")
LABELS = {
    "floor": "floor: bare `EXCEPT` both ways",
    "join_floor": "bare full outer join",
    "cohortflow": "**cohortflow** `detect_changes`",
    "pandas": "pandas merge, Arrow read",
    "pandas_df": "pandas merge, `.df()` read",
    "cohortflow_defaults": "cohortflow, DuckDB defaults",
}
DIAGNOSTIC = "cohortflow_statements"
DEFAULTS = "cohortflow_defaults"
COMMITTED = "_committed_at"
KEY = "segment, person_id, traits_hash"
TARGET_FLOOR, TARGET_PANDAS, TARGET_MIB = 1.5, 10.0, 2048.0


def membership_sql(rows: int, version: int) -> str:
    """Version 1 or 2 of a `rows`-row segment_membership, generated in DuckDB.

    Row i is in segment i % SEGMENTS as that segment's person i // SEGMENTS, offset per segment
    so a person is in several segments. `(i * 7919) % 1000` runs through 0..999 once in every
    1,000 consecutive rows, so exactly EXITS per 1,000 rows leave and UPDATES per 1,000 change
    traits, spread over the table; ENTRIES per 1,000 new rows come in.
    """
    churn = "(range * 7919) % 1000"
    if version == 1:
        source = f"select range as i, 0 as bump from range({rows})"
    else:
        entries = rows * ENTRIES // 1000
        source = (
            f"select range as i, (range < {rows} and {churn} < {EXITS + UPDATES})::int as bump "
            f"from range({rows + entries}) where range >= {rows} or {churn} >= {EXITS}"
        )
    person = f"i // {SEGMENTS} + (i % {SEGMENTS}) * {max(rows // (4 * SEGMENTS), 1)}"
    traits = (
        """printf('{"last_order_at":"2026-%02d-%02dT10:00:00Z","orders":%d,"spend":%.2f}', """
        "1 + i % 6, 1 + i % 28, i % 40 + bump, (i % 100000) / 7.0)"
    )
    return f"""
        with source as ({source}),
        members as (
            select
                i,
                'segment_' || (i % {SEGMENTS}) as segment,
                printf('cust_%010d', {person}) as person_id,
                printf('cust_%010d@example.com', {person}) as email,
                printf('+1555%07d', ({person}) % 10000000) as phone,
                {traits} as traits
            from source
        )
        select segment, person_id, email, phone, traits, md5(traits) as traits_hash
        from members
        order by i % {SEGMENTS}, i
    """


def expected_changes(rows: int) -> dict[str, int]:
    """The changes version 2 makes to version 1 (rows is a multiple of 1,000)."""
    per_thousand = {"entered": ENTRIES, "exited": EXITS, "updated": UPDATES}
    return {kind: rows // 1000 * count for kind, count in per_thousand.items()}


def prepare(rows: int, database: Path) -> None:
    """The DuckDB file every contender starts from: version 1 recorded, version 2 published.

    Runs in a child process too: Linux carries a parent's peak RSS into the children it starts,
    so the parent must never hold the data itself.
    """
    import duckdb

    from activations.changes import detect_changes
    from activations.warehouse import Warehouse, connect

    with duckdb.connect(str(database)) as con:
        con.execute("create schema analytics")
        con.execute(f"create table analytics.segment_membership as {membership_sql(rows, 1)}")
    with connect(Warehouse.from_location(str(database))) as connection:
        detect_changes(connection, **SCHEMAS, as_of=AS_OF_1)
    with duckdb.connect(str(database)) as con:
        con.execute(
            f"create or replace table analytics.segment_membership as {membership_sql(rows, 2)}"
        )
        con.execute("checkpoint")


# --- contenders: each runs alone in a child process and returns its time and counts ----------


def run_cohortflow(
    database: Path, statements: dict[str, float] | None = None, settings: bool = True
) -> dict[str, Any]:
    """`detect_changes` on version 2, committed; with `statements`, time each statement too.

    `settings=False` leaves DuckDB at its defaults, as `cohortflow run` opens the warehouse.
    """
    import duckdb_engine  # noqa: F401  (imported by the engine otherwise: not part of the diff)

    from activations.changes import detect_changes
    from activations.warehouse import Warehouse, connect

    if statements is not None:
        _time_statements(statements)
    started = time.perf_counter()
    with connect(Warehouse.from_location(str(database))) as connection:
        connected = time.perf_counter()
        for name, value in SETTINGS.items() if settings else ():
            literal = f"'{value}'" if isinstance(value, str) else str(value).lower()
            connection.exec_driver_sql(f"set {name} = {literal}")
        recorded = detect_changes(connection, **SCHEMAS, as_of=AS_OF_2)
        detected = time.perf_counter()
    finished = time.perf_counter()
    if statements is not None:
        committed = statements.pop(COMMITTED, finished)
        named = sum(statements.values())
        statements["open the database (engine, connect, begin)"] = connected - started
        statements["other (settings, migrations check)"] = detected - connected - named
        statements["commit (checkpoints when the WAL passes 16 MiB)"] = committed - detected
        statements["close (checkpoints what is left in the WAL)"] = finished - committed
    return {"seconds": finished - started, **{k: recorded.total(k) for k in CHANGE_KINDS}}


def _time_statements(into: dict[str, float]) -> None:
    """Add the time of every statement `detect_changes` runs by name to `into`.

    Only for the diagnostic run: the statements it builds are tagged with their name (an
    execution option), and cursor events time them. The instant the commit returned (the pool
    resets the connection) goes in under COMMITTED.
    """
    from sqlalchemy import event
    from sqlalchemy.engine import Engine
    from sqlalchemy.pool import Pool

    import activations.changes

    build = activations.changes.statement  # type: ignore[attr-defined]

    def tagged(connection: Any, name: str, **identifiers: str) -> Any:
        return build(connection, name, **identifiers).execution_options(benchmark_name=name)

    activations.changes.statement = tagged  # type: ignore[attr-defined]
    started: list[float] = []

    def before(*_: Any) -> None:
        started.append(time.perf_counter())

    def after(
        connection: Any, cursor: Any, sql: str, parameters: Any, context: Any, *_: Any
    ) -> None:
        seconds = time.perf_counter() - started.pop()
        name = context.execution_options.get("benchmark_name")
        if name is not None:
            into[name] = into.get(name, 0.0) + seconds

    event.listen(Engine, "before_cursor_execute", before)
    event.listen(Engine, "after_cursor_execute", after)
    event.listen(Pool, "reset", lambda *_: into.setdefault(COMMITTED, time.perf_counter()))


def run_floor(database: Path) -> dict[str, Any]:
    """The same rows as cohortflow's change log from a bare `EXCEPT` both ways, committed."""
    return _bare(
        database,
        f"""
            create table bench_changes as
            with
            added as (
                select {KEY} from analytics.segment_membership
                except
                select {KEY} from cohortflow_state.membership_snapshot
            ),
            removed as (
                select {KEY} from cohortflow_state.membership_snapshot
                except
                select {KEY} from analytics.segment_membership
            )
            select
                coalesce(added.segment, removed.segment) as segment,
                coalesce(added.person_id, removed.person_id) as person_id,
                case
                    when removed.person_id is null then 'entered'
                    when added.person_id is null then 'exited'
                    else 'updated'
                end as change,
                coalesce(added.traits_hash, removed.traits_hash) as traits_hash
            from added
            full outer join removed
                on removed.segment = added.segment and removed.person_id = added.person_id
            """,
    )


def run_join_floor(database: Path) -> dict[str, Any]:
    """cohortflow's diff query alone (one full outer join) into a table, committed."""
    return _bare(
        database,
        """
            create table bench_changes as
            select
                coalesce(cur.segment, prev.segment) as segment,
                coalesce(cur.person_id, prev.person_id) as person_id,
                case
                    when prev.person_id is null then 'entered'
                    when cur.person_id is null then 'exited'
                    else 'updated'
                end as change,
                coalesce(cur.traits_hash, prev.traits_hash) as traits_hash
            from analytics.segment_membership as cur
            full outer join cohortflow_state.membership_snapshot as prev
                on prev.segment = cur.segment and prev.person_id = cur.person_id
            where prev.person_id is null
                or cur.person_id is null
                or prev.traits_hash <> cur.traits_hash
            """,
    )


def _bare(database: Path, sql: str) -> dict[str, Any]:
    """Run `sql` (it creates bench_changes) in a transaction; the time includes commit and close
    (a close checkpoints what the commit left in the WAL), like cohortflow's."""
    import duckdb

    started = time.perf_counter()
    with duckdb.connect(str(database), config=dict(SETTINGS)) as con:
        con.execute("begin")
        con.execute(sql)
        con.execute("commit")
    seconds = time.perf_counter() - started
    with duckdb.connect(str(database), read_only=True) as con:
        counts = con.execute("select change, count(*) from bench_changes group by 1").fetchall()
    return {"seconds": seconds, **dict(counts)}


def run_pandas(database: Path, arrow: bool = True) -> dict[str, Any]:
    """Both tables into pandas, an outer merge with indicator, and a hash comparison.

    `arrow`: read through Arrow (`to_arrow_table().to_pandas()`), else through DuckDB's `.df()`,
    which builds Python strings and is several times slower (and bigger) on text columns.
    """
    import duckdb
    import pandas  # noqa: F401  (imported by `.df()` otherwise: not part of the diff)

    started = time.perf_counter()
    with duckdb.connect(str(database), read_only=True, config=dict(SETTINGS)) as con:
        frames = []
        for table in ("analytics.segment_membership", "cohortflow_state.membership_snapshot"):
            relation = con.sql(f"select {KEY} from {table}")
            frames.append(relation.to_arrow_table().to_pandas() if arrow else relation.df())
        current, previous = frames
        del frames
    read = time.perf_counter()
    merged = current.merge(
        previous, on=["segment", "person_id"], how="outer", indicator=True, suffixes=("", "_prev")
    )
    del current, previous
    entered = merged["_merge"] == "left_only"
    exited = merged["_merge"] == "right_only"
    updated = (merged["_merge"] == "both") & (merged["traits_hash"] != merged["traits_hash_prev"])
    changes = merged.loc[entered | exited | updated]
    changes = changes.assign(
        change=changes["_merge"]
        .map({"left_only": "entered", "right_only": "exited"})
        .fillna("updated"),
        traits_hash=changes["traits_hash"].fillna(changes["traits_hash_prev"]),
    )[["segment", "person_id", "change", "traits_hash"]]
    seconds = time.perf_counter() - started
    counts = changes["change"].value_counts()
    phases = {"read into pandas": read - started, "merge and compare": seconds - (read - started)}
    return {
        "seconds": seconds,
        "statements": phases,
        **{str(kind): int(n) for kind, n in counts.items()},
    }


def run_contender(name: str, database: Path) -> dict[str, Any]:
    if name == DIAGNOSTIC:
        statements: dict[str, float] = {}
        return {**run_cohortflow(database, statements), "statements": statements}
    if name == DEFAULTS:
        return run_cohortflow(database, settings=False)
    if name == "pandas_df":
        return run_pandas(database, arrow=False)
    runners: dict[str, Callable[[Path], dict[str, Any]]] = {
        "floor": run_floor,
        "join_floor": run_join_floor,
        "cohortflow": run_cohortflow,
        "pandas": run_pandas,
    }
    return runners[name](database)


# --- the parent: prepare, run each contender on a copy, report ----------------------------------


@dataclass
class Measurement:
    """One contender at one size: in-child diff time, process wall time and peak RSS per run."""

    contender: str
    diff_seconds: list[float] = field(default_factory=list)
    process_seconds: list[float] = field(default_factory=list)
    peak_mib: list[float] = field(default_factory=list)
    statements: dict[str, float] = field(default_factory=dict)

    @property
    def seconds(self) -> float:
        return statistics.median(self.diff_seconds)

    @property
    def process(self) -> float:
        return statistics.median(self.process_seconds)

    @property
    def peak(self) -> float:
        return max(self.peak_mib)


def measure_once(contender: str, prepared: Path, rows: int, into: Measurement) -> None:
    """Run `contender` in a child process on a fresh copy of `prepared` and check its counts."""
    copy = prepared.with_name(f"{contender}.duckdb")
    out = prepared.with_name(f"{contender}.json")
    _remove(copy, out)
    shutil.copyfile(prepared, copy)
    command = [sys.executable, "-m", "benchmarks.change_detection", "--contender", contender]
    step = run_step(contender, [*command, "--database", str(copy), "--out", str(out)])
    found = json.loads(out.read_text(encoding="utf-8"))
    counts = {kind: int(found.get(kind, 0)) for kind in CHANGE_KINDS}
    if counts != expected_changes(rows):
        raise RuntimeError(f"{contender} found {counts}, expected {expected_changes(rows)}")
    into.diff_seconds.append(float(found["seconds"]))
    into.process_seconds.append(step.seconds)
    into.peak_mib.append(step.peak_mib)
    if float(found["seconds"]) == min(into.diff_seconds) or not into.statements:
        into.statements = found.get("statements", {})
    _remove(copy, out)


def _remove(database: Path, *others: Path) -> None:
    """A database copy with its WAL and spill folder, and other files."""
    for path in (database, database.with_name(f"{database.name}.wal"), *others):
        path.unlink(missing_ok=True)
    shutil.rmtree(database.with_name(f"{database.name}.tmp"), ignore_errors=True)


def run_size(rows: int, repeat: int) -> dict[str, Measurement]:
    """Every contender (interleaved, `repeat` times) and the diagnostic runs at `rows` rows."""
    folder = WORK / f"changes_{rows}"
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    prepared = folder / "prepared.duckdb"
    command = [sys.executable, "-m", "benchmarks.change_detection", "--prepare", str(rows)]
    run_step("prepare", [*command, "--database", str(prepared)])
    results = {name: Measurement(name) for name in (*CONTENDERS, DIAGNOSTIC, DEFAULTS)}
    for _ in range(repeat):
        for name in CONTENDERS:
            measure_once(name, prepared, rows, results[name])
    for name in (DIAGNOSTIC, DEFAULTS):
        measure_once(name, prepared, rows, results[name])
    shutil.rmtree(folder, ignore_errors=True)
    return results


def report(results: dict[int, dict[str, Measurement]], repeat: int) -> str:
    """The contenders, the targets and where the time goes, as Markdown tables."""
    sizes = sorted(results)
    base = sizes[0]
    lines = [
        f"1% churn per run (0.4% exits, 0.4% entries, 0.2% trait updates) over {SEGMENTS} "
        f"segments. DuckDB memory_limit {SETTINGS['memory_limit']}, threads {SETTINGS['threads']}, "
        "preserve_insertion_order false for every contender but the DuckDB defaults row. "
        f"Diff time: median of {repeat} run(s), from opening the database until the result is "
        "committed and the database closed (the pandas rows keep their result in memory); "
        "process: the child's whole wall time, interpreter and imports included; peak memory: "
        "the child's peak RSS, max over runs. The full outer join row is cohortflow's diff query "
        "alone, written to a table; the DuckDB defaults row (one run) opens the warehouse the way "
        "`cohortflow run` does, without the profile's memory limit.",
        "",
        "| rows | contender | diff time (s) | process (s) | peak memory (MiB) | time vs floor | "
        f"time vs {base:,} rows | memory vs {base:,} rows |",
        "|---:|---|---:|---:|---:|---:|---:|---:|",
    ]
    for size in sizes:
        floor = results[size]["floor"].seconds
        for name in (*CONTENDERS, DEFAULTS):
            m, b = results[size][name], results[base][name]
            lines.append(
                f"| {size:,} | {LABELS[name]} | {m.seconds:.2f} | {m.process:.2f} | {m.peak:.0f} "
                f"| {m.seconds / floor:.2f}x | {m.seconds / b.seconds:.1f}x "
                f"| {m.peak / b.peak:.1f}x |"
            )
    lines += [
        "",
        f"| rows | cohortflow / floor (target <= {TARGET_FLOOR}x) | pandas / cohortflow, Arrow "
        f"read (target >= {TARGET_PANDAS:.0f}x) | pandas / cohortflow, `.df()` read | "
        f"cohortflow peak memory (target < {TARGET_MIB:,.0f} MiB) |",
        "|---:|---:|---:|---:|---:|",
    ]
    for size in sizes:
        cohortflow = results[size]["cohortflow"]
        vs_floor = cohortflow.seconds / results[size]["floor"].seconds
        vs_pandas = results[size]["pandas"].seconds / cohortflow.seconds
        vs_df = results[size]["pandas_df"].seconds / cohortflow.seconds
        lines.append(
            f"| {size:,} | {vs_floor:.2f}x {_verdict(vs_floor <= TARGET_FLOOR)} "
            f"| {vs_pandas:.1f}x {_verdict(vs_pandas >= TARGET_PANDAS)} "
            f"| {vs_df:.1f}x "
            f"| {cohortflow.peak:.0f} {_verdict(cohortflow.peak < TARGET_MIB)} |"
        )
    lines += [
        "",
        "Where the time goes: each statement of `detect_changes` in one extra diagnostic run "
        "(same settings; steps under 5 ms left out), and the phases of the fastest pandas runs.",
        "",
        "| rows | step | seconds | share |",
        "|---:|---|---:|---:|",
    ]
    for size in sizes:
        for name in (DIAGNOSTIC, "pandas", "pandas_df"):
            steps = results[size][name].statements
            total = sum(steps.values())
            owner = LABELS.get(name, "cohortflow")
            for step, seconds in sorted(steps.items(), key=lambda item: -item[1]):
                if seconds >= 0.005:
                    lines.append(
                        f"| {size:,} | {owner}: {step} | {seconds:.2f} | {seconds / total:.0%} |"
                    )
    return "\n".join(lines)


def _verdict(met: bool) -> str:
    return "(met)" if met else "(**missed**)"


def main(argv: list[str] | None = None) -> str:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", type=int, nargs="+", default=[1_000_000, 10_000_000])
    parser.add_argument("--repeat", type=int, default=5, help="runs per contender (median)")
    parser.add_argument(
        "--contender", choices=[*CONTENDERS, DIAGNOSTIC, DEFAULTS], help=argparse.SUPPRESS
    )
    parser.add_argument("--prepare", type=int, metavar="ROWS", help=argparse.SUPPRESS)
    parser.add_argument("--database", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.prepare:
        prepare(args.prepare, args.database)
        return ""
    if args.contender:
        found = run_contender(args.contender, args.database)
        args.out.write_text(json.dumps(found), encoding="utf-8")
        return ""
    if any(size % 1000 for size in args.sizes):
        parser.error("sizes must be multiples of 1,000")
    results = {size: run_size(size, args.repeat) for size in args.sizes}
    table = report(results, args.repeat)
    print(table)
    return table


if __name__ == "__main__":
    main()
