"""The fake Pleo server in its own process, seeded as the demo seeds it, for benchmarks.

``python benchmarks/_fake_server.py --rounds 5 --jobs 4 --items 2500`` seeds ``rounds`` sets
of companies with ``examples/export_to_ledger.py``'s ``seed_fake`` (one pending job each, every
other one vendor-based), serves them on 127.0.0.1 and prints two lines: the base URL, then a
JSON list with the company ids of each round. With ``--bare`` each round is instead one company
with one plain pending job of ``items`` items (``FakePleo.add_job``'s defaults), on a fake
seeded with ``--seed``. Its CPU time can be read from ``/proc``.
"""

from __future__ import annotations

import argparse
import json
import sys
import threading

import uvicorn
from _common import REPO

__all__ = ["main"]


def main() -> None:
    """Seed, print, serve until killed."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--jobs", type=int, default=4)
    parser.add_argument("--items", type=int, default=2500)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--bare", action="store_true", help="one plain job a round, no demo data")
    args = parser.parse_args()

    sys.path.insert(0, str(REPO / "examples"))
    from export_to_ledger import seed_fake  # type: ignore[import-not-found]

    from pleo_export.testing import FakePleo
    from pleo_export.testing._server import bind_loopback, make_config

    fake = FakePleo(seed=args.seed, record_events=False)
    rounds: list[list[str]] = []
    known: set[str] = set()
    for _ in range(args.rounds):
        if args.bare:
            fake.add_job(items=args.items)
        else:
            seed_fake(fake, jobs=args.jobs, items=args.items)
        companies = sorted({job["companyId"] for job in fake.jobs()} - known)
        known.update(companies)
        rounds.append(companies)
    sock = bind_loopback(0)
    print(f"http://127.0.0.1:{sock.getsockname()[1]}", flush=True)
    print(json.dumps(rounds), flush=True)
    uvicorn.Server(make_config(fake.app, threading.Event())).run(sockets=[sock])


if __name__ == "__main__":
    main()
