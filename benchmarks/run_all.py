"""`make bench`: run every benchmark and record the results in benchmarks/RESULTS.md.

Each benchmark's section in RESULTS.md is replaced between its markers, so results for other
benchmarks (and the prose around them) are kept.
"""

from __future__ import annotations

import argparse
import re
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from benchmarks import (
    change_detection,
    foundation,
    klaviyo_sync,
    omnisend_sync,
    quality_checks,
    sms_sync,
)
from benchmarks.machine import describe_machine

RESULTS = Path(__file__).resolve().parent / "RESULTS.md"
# Each section of RESULTS.md and the benchmark that fills it, in order.
BENCHMARKS: dict[str, Callable[[list[str]], str]] = {
    "foundation": foundation.main,
    "change_detection": change_detection.main,
    "klaviyo_sync": klaviyo_sync.main,
    "omnisend_sync": omnisend_sync.main,
    "sms_sync": sms_sync.main,
    "quality_checks": quality_checks.main,
}


def record(section: str, body: str) -> None:
    """Replace the section between `<!-- section:start -->` and `<!-- section:end -->`."""
    start, end = f"<!-- {section}:start -->", f"<!-- {section}:end -->"
    stamp = f"Measured {datetime.now(UTC):%Y-%m-%d %H:%M} UTC on: {describe_machine()}\n\n"
    block = f"{start}\n{stamp}{body}\n{end}"
    text = RESULTS.read_text(encoding="utf-8") if RESULTS.exists() else "# Benchmark results\n"
    pattern = re.compile(re.escape(start) + ".*?" + re.escape(end), re.DOTALL)
    text = pattern.sub(lambda _: block, text) if pattern.search(text) else f"{text}\n{block}\n"
    RESULTS.write_text(text, encoding="utf-8")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "--only", choices=list(BENCHMARKS), nargs="+", help="run these benchmarks only"
    )
    args = parser.parse_args(argv)
    for section, benchmark in BENCHMARKS.items():
        if args.only is None or section in args.only:
            record(section, benchmark([]))
    print(f"results written to {RESULTS}")


if __name__ == "__main__":
    main()
