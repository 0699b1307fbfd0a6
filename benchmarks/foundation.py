"""Generate + load + build at 100k and 1M persons on DuckDB: time and peak memory per step.

The 100k run is the baseline measured in the same session: the report shows how each step grows
to 1M (10x the persons; 10.0x time means linear). Target: 1M end to end in under 10 minutes and
every step under 4 GiB on the reference 2-core machine.

    python -m benchmarks.foundation [--sizes 100000 1000000]
"""

from __future__ import annotations

import argparse
import shutil
import sys
from pathlib import Path

from benchmarks.measure import StepResult, run_step

WORK = Path(__file__).resolve().parent / ".work"
AS_OF = "2026-06-30T12:00:00"


def run_size(persons: int) -> list[StepResult]:
    """Generate, load and build a store of `persons` people; one result per step."""
    folder = WORK / f"store_{persons}"
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    cli = str(Path(sys.executable).parent / "cohortflow")
    env = {"COHORTFLOW_WAREHOUSE": str(folder / "warehouse.duckdb")}
    steps = [
        run_step(
            "generate",
            [
                cli,
                "generate",
                "--persons",
                str(persons),
                "--seed",
                "1",
                "--until",
                AS_OF,
                "--out",
                str(folder / "raw"),
                "--json",
            ],
        ),
        run_step("load", [cli, "load", "--raw-dir", str(folder / "raw"), "--json"], env),
        run_step("build", [cli, "run", "--as-of", AS_OF, "--json"], env),
    ]
    shutil.rmtree(folder, ignore_errors=True)
    return steps


def report(results: dict[int, list[StepResult]]) -> str:
    """A Markdown table of every step at every size, with growth against the smallest size."""
    sizes = sorted(results)
    base = sizes[0]
    lines = [
        "| persons | step | wall time (s) | peak memory (MiB) | time vs "
        f"{base:,} | memory vs {base:,} |",
        "|---:|---|---:|---:|---:|---:|",
    ]
    for size in sizes:
        for step, baseline in zip(results[size], results[base], strict=True):
            time_growth = step.seconds / baseline.seconds
            memory_growth = step.peak_mib / baseline.peak_mib
            lines.append(
                f"| {size:,} | {step.name} | {step.seconds:.1f} | {step.peak_mib:.0f} | "
                f"{time_growth:.1f}x | {memory_growth:.1f}x |"
            )
        total = sum(step.seconds for step in results[size])
        peak = max(step.peak_mib for step in results[size])
        lines.append(f"| {size:,} | **end to end** | **{total:.1f}** | **{peak:.0f}** (max) | | |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> str:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000])
    args = parser.parse_args(argv)
    results = {size: run_size(size) for size in args.sizes}
    table = report(results)
    print(table)
    return table


if __name__ == "__main__":
    main()
