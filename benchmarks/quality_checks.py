"""The data-quality checks against the build they guard, at 100k and 1M persons on DuckDB.

Per size: a synthetic store is generated and loaded (not timed), then `cohortflow run` builds
every model and its tests and records the changes (the build, timed). Then every check runs
against that run twice, each in a child process:

- in a run: what the checks add to `cohortflow run`, where cohortflow is already loaded: the
  Great Expectations import (a fixed ~3 s) plus `run_checks`, timed inside the child;
- the command: `cohortflow checks` timed whole, Python and CLI start included (an upper bound).

Target: the checks add less than 20% to the run they guard (the first measure).

    python -m benchmarks.quality_checks [--sizes 100000 1000000]
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import time
from pathlib import Path

from benchmarks.change_detection import _verdict
from benchmarks.measure import StepResult, run_step

WORK = Path(__file__).resolve().parent / ".work"
AS_OF = "2026-06-30T12:00:00"
TARGET = 0.20


def run_size(persons: int) -> tuple[StepResult, float, StepResult]:
    """The build, the checks' added seconds in a run, and the checks command, at one size."""
    folder = WORK / f"quality_{persons}"
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    cli = str(Path(sys.executable).parent / "cohortflow")
    env = {
        "COHORTFLOW_WAREHOUSE": str(folder / "warehouse.duckdb"),
        "COHORTFLOW_REPORT_DIR": str(folder / "reports"),
    }
    raw = str(folder / "raw")
    generate = [cli, "generate", "--persons", str(persons), "--seed", "1", "--until", AS_OF]
    run_step("generate", [*generate, "--out", raw, "--json"])
    run_step("load", [cli, "load", "--raw-dir", raw, "--json"], env)
    build = run_step("build", [cli, "run", "--as-of", AS_OF, "--json"], env)
    out = folder / "in_run.json"
    in_run = [sys.executable, "-m", "benchmarks.quality_checks", "--step", "checks"]
    run_step("checks in a run", [*in_run, "--out", str(out)], env)
    added = float(json.loads(out.read_text(encoding="utf-8"))["seconds"])
    command = run_step("checks command", [cli, "checks", "--json"], env)
    shutil.rmtree(folder, ignore_errors=True)
    return build, added, command


def checks_in_a_run(out: Path) -> None:
    """Child step: with cohortflow loaded, time importing GX and running every check."""
    from activations.segment_config import load_segment_configs
    from activations.settings import Settings
    from activations.transform import MANIFEST_PATH

    settings = Settings.from_env()
    configs = load_segment_configs(MANIFEST_PATH)
    from activations.quality.gate import run_checks

    started = time.perf_counter()
    import great_expectations  # noqa: F401  # what a run without checks never loads

    report = run_checks(settings, configs=configs)
    seconds = time.perf_counter() - started
    if report.holding:
        raise RuntimeError(f"checks failed on the synthetic store: {report.holding}")
    out.write_text(json.dumps({"seconds": seconds}), encoding="utf-8")


def report(results: dict[int, tuple[StepResult, float, StepResult]]) -> str:
    lines = [
        "`cohortflow run` (dbt build of every model and test, change detection) against every "
        "check (raw suites, payload suite, volume, consent, dbt results) on the run it "
        "recorded, DuckDB, synthetic store. *In a run*: the GX import plus `run_checks`, what "
        "the checks add to `cohortflow run`; *command*: `cohortflow checks` timed whole.",
        "",
        "| persons | build (s) | checks in a run (s) | checks / build | target | "
        "checks command (s) | build peak (MiB) | checks peak (MiB) |",
        "|---:|---:|---:|---:|---|---:|---:|---:|",
    ]
    for persons, (build, added, command) in sorted(results.items()):
        share = added / build.seconds
        lines.append(
            f"| {persons:,} | {build.seconds:.1f} | {added:.1f} | {share:.1%} | "
            f"< {TARGET:.0%} {_verdict(share < TARGET)} | {command.seconds:.1f} | "
            f"{build.peak_mib:.0f} | {command.peak_mib:.0f} |"
        )
    lines += [
        "",
        "- Of the checks' time, about 3 s is importing Great Expectations, whatever the size; "
        "the checks themselves are aggregate queries in DuckDB (GX's column expectations, "
        "which read a query's every row to learn its columns, are not used).",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> str:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--step", choices=["checks"], help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.step == "checks":
        checks_in_a_run(args.out)
        return ""
    results = {persons: run_size(persons) for persons in args.sizes}
    text = report(results)
    print(text)
    return text


if __name__ == "__main__":
    main()
