"""Run the fake Pleo Export API on 127.0.0.1 until interrupted.

``python -m pleo_export.testing --port 8080 --seed 1 --jobs 2 --items 500`` seeds one pending
job per company (vendor-based unless ``--no-vendor-based``, so invoices carry vendors, some
without a code) and prints the base URL and the credentials it accepts.
"""

from __future__ import annotations

import argparse
import threading

import uvicorn

from pleo_export.testing._fake import FakePleo
from pleo_export.testing._rules import DEFAULT_API_KEY, DEFAULT_BEARER_TOKEN
from pleo_export.testing._server import HOST, bind_loopback, make_config

__all__ = ["main"]


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m pleo_export.testing",
        description="Serve a fake Pleo Export API (v2 and v3) on 127.0.0.1.",
    )
    parser.add_argument("--port", type=int, default=0, help="port to bind (default: any free)")
    parser.add_argument("--seed", type=int, default=0, help="seed of all generated data")
    parser.add_argument("--jobs", type=int, default=1, help="pending jobs, one per company")
    parser.add_argument("--items", type=int, default=25, help="items per job")
    parser.add_argument(
        "--vendor-based",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="seed jobs with vendor-based bookkeeping: invoices carry a vendor (default: on)",
    )
    parser.add_argument("--api-key", default=DEFAULT_API_KEY, help="accepted API key")
    parser.add_argument("--token", default=DEFAULT_BEARER_TOKEN, help="accepted bearer token")
    parser.add_argument(
        "--requests-per-minute",
        type=int,
        default=None,
        help="enforce Pleo's rate limit per credential, answering 429 (default: none; Pleo: 600)",
    )
    parser.add_argument("--log-level", default="warning", help="uvicorn log level")
    return parser


def main(argv: list[str] | None = None) -> int:
    """Seed a fake from the command line and serve it until interrupted."""
    args = _parser().parse_args(argv)
    fake = FakePleo(
        seed=args.seed,
        api_keys=[args.api_key],
        bearer_tokens=[args.token],
        requests_per_minute=args.requests_per_minute,
    )
    jobs = [
        fake.add_job(items=args.items, vendor_based_bookkeeping=args.vendor_based)
        for _ in range(args.jobs)
    ]
    sock = bind_loopback(args.port)
    port = sock.getsockname()[1]
    print(f"Fake Pleo Export API at http://{HOST}:{port}", flush=True)
    print(f"  API key (HTTP Basic user, empty password): {args.api_key}")
    print(f"  Bearer token: {args.token}")
    for job_id in jobs:
        job = fake.job(job_id)
        print(f"  company {job['companyId']}: pending job {job_id} with {args.items} items")
    print("Press Ctrl+C to stop.", flush=True)
    server = uvicorn.Server(make_config(fake.app, threading.Event(), args.log_level))
    server.run(sockets=[sock])
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
