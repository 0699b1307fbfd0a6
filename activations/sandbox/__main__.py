"""Run a sandbox in the foreground, for manual use and demos (Ctrl+C stops it).

    python -m activations.sandbox klaviyo --port 8765 --api-key KEY [--time-scale N]
        [--fault-rate F] [--fault-kinds 429,503] [--job-seconds S] [--seed N]
    python -m activations.sandbox omnisend --port 8766 --api-key KEY [same options]

It serves on 127.0.0.1; `GET /__sandbox__/state` shows what it holds.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import cast

import uvicorn

from activations.sandbox.faults import FAULT_KINDS, FaultKind, Faults
from activations.sandbox.server import LOOPBACK


def _kinds(text: str) -> tuple[FaultKind, ...]:
    kinds = tuple(kind.strip() for kind in text.split(",") if kind.strip())
    unknown = [kind for kind in kinds if kind not in FAULT_KINDS]
    if unknown or not kinds:
        raise argparse.ArgumentTypeError(
            f"fault kinds are a comma list of {', '.join(FAULT_KINDS)}"
        )
    return cast(tuple[FaultKind, ...], kinds)


def main(argv: Sequence[str] | None = None) -> int:
    """Parse the command line and serve until interrupted."""
    parser = argparse.ArgumentParser(prog="python -m activations.sandbox", description=__doc__)
    parser.add_argument("vendor", choices=["klaviyo", "omnisend"])
    parser.add_argument("--host", default=LOOPBACK)
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--api-key", required=True, help="the one API key the sandbox accepts")
    parser.add_argument("--time-scale", type=float, default=1.0, help="API seconds per wall second")
    parser.add_argument("--fault-rate", type=float, default=0.0, help="share of requests that fail")
    parser.add_argument("--fault-kinds", type=_kinds, default=FAULT_KINDS)
    parser.add_argument("--partial-job-rate", type=float, default=0.0)
    parser.add_argument(
        "--job-seconds",
        type=float,
        default=0.0,
        help="Klaviyo: API seconds per 1,000 rows; Omnisend: API seconds per batch or tag change",
    )
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)

    faults = Faults(
        rate=args.fault_rate, kinds=args.fault_kinds, partial_job_rate=args.partial_job_rate
    )
    if args.vendor == "omnisend":
        from activations.sandbox.omnisend import OmnisendSandbox

        omnisend = OmnisendSandbox(
            args.api_key,
            faults=faults,
            time_scale=args.time_scale,
            seed=args.seed,
            batch_seconds=args.job_seconds,
            tag_seconds=args.job_seconds,
        )
        print(
            f"Omnisend sandbox (version {omnisend.version}) on "
            f"http://{args.host}:{args.port}/api time scale {args.time_scale:g}, "
            f"fault rate {args.fault_rate:g}",
            flush=True,
        )
        uvicorn.run(omnisend.app, host=args.host, port=args.port, log_level="info", lifespan="off")
        return 0

    from activations.sandbox.klaviyo import KlaviyoSandbox

    sandbox = KlaviyoSandbox(
        args.api_key,
        faults=faults,
        time_scale=args.time_scale,
        seed=args.seed,
        job_seconds=args.job_seconds,
    )
    print(
        f"Klaviyo sandbox (revision {sandbox.revision}) on http://{args.host}:{args.port} "
        f"time scale {args.time_scale:g}, fault rate {args.fault_rate:g}",
        flush=True,
    )
    uvicorn.run(sandbox.app, host=args.host, port=args.port, log_level="info", lifespan="off")
    return 0


if __name__ == "__main__":
    sys.exit(main())
