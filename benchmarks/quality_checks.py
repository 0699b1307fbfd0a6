"""The data-quality checks against the build they guard, at 100k and 1M persons on DuckDB.

Per size: a synthetic store is generated and loaded (not timed), then `cohortflow run` builds
every model and its tests and records the changes (the build, timed), then `cohortflow checks`
runs every check against that run (timed). The checks command is measured whole, Python start
and the Great Expectations import included, so it is an upper bound of what the checks add to a
run. Target: the checks add less than 20% to the build.

    python -m benchmarks.quality_checks [--sizes 100000 1000000]
"""

from __future__ import annotations

import argparse
import shutil
import sys
from pathlib import Path

from benchmarks.change_detection import _verdict
from benchmarks.measure import StepResult, run_step

WORK = Path(__file__).resolve().parent / ".work"
AS_OF = "2026-06-30T12:00:00"
TARGET = 0.20


def run_size(persons: int) -> tuple[StepResult, StepResult]:
    """The build and the checks of a store of `persons` people."""
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
    checks = run_step("checks", [cli, "checks", "--json"], env)
    shutil.rmtree(folder, ignore_errors=True)
    return build, checks


def report(results: dict[int, tuple[StepResult, StepResult]]) -> str:
    lines = [
        "`cohortflow run` (dbt build of every model and test, change detection) against "
        "`cohortflow checks` (every check: raw suites, payload suite, volume, consent, dbt "
        "results) on the run it recorded, DuckDB, synthetic store. Each is a child process, "
        "timed whole.",
        "",
        "| persons | build (s) | checks (s) | checks / build | target | build peak (MiB) | "
        "checks peak (MiB) |",
        "|---:|---:|---:|---:|---|---:|---:|",
    ]
    for persons, (build, checks) in sorted(results.items()):
        share = checks.seconds / build.seconds
        lines.append(
            f"| {persons:,} | {build.seconds:.1f} | {checks.seconds:.1f} | {share:.1%} | "
            f"< {TARGET:.0%} {_verdict(share < TARGET)} | {build.peak_mib:.0f} | "
            f"{checks.peak_mib:.0f} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> str:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000])
    args = parser.parse_args(argv)
    results = {persons: run_size(persons) for persons in args.sizes}
    text = report(results)
    print(text)
    return text


if __name__ == "__main__":
    main()
