"""A fleet of real processes on one credential shares one request budget through SQLite and
PostgreSQL: measured by the fake's own log of when requests arrived, in a sliding window."""

from __future__ import annotations

import asyncio
import bisect
import sqlite3
import sys
from pathlib import Path

import psycopg
from _backends import Backend

from pleo_export._config import REQUEST_BURST, SHARED_BUDGET_BLOCK
from pleo_export.testing import DEFAULT_API_KEY, FakePleo

CLIENT = Path(__file__).with_name("_budget_client.py")
PROCESSES = 4
#: A high budget (50 a second) for a few seconds: a quick run, yet sharing shows plainly.
RPM = 3000
SECONDS = 2.5
WINDOW = 1.0


def _busiest(times: list[float], window: float) -> int:
    """The most requests that arrived within any ``window`` seconds."""
    return max(bisect.bisect_left(times, t + window) - i for i, t in enumerate(times))


async def test_four_processes_together_stay_within_one_budget(
    durable_backend: Backend, tmp_path: Path
) -> None:
    """Four processes, each with a budget of 50 requests a second shared through the store,
    read as fast as they may: in every second the fake sees at most the budget plus what
    the fleet may hold at once (the store's bucket and one block per process), and the budget
    is used, not starved. Without sharing the four would send about 4× the budget and fail the
    bound. The store holds a hash of the credential, never the credential."""
    fake = FakePleo(seed=5)
    job = fake.add_job(items=1)
    async with fake.serve() as url:
        clients = [
            await asyncio.create_subprocess_exec(
                sys.executable,
                str(CLIENT),
                durable_backend.spec,
                url,
                job,
                str(RPM),
                str(SECONDS),
                cwd=CLIENT.parent,
                stdout=asyncio.subprocess.PIPE,
            )
            for _ in range(PROCESSES)
        ]
        counts = []
        for client in clients:
            out, _ = await asyncio.wait_for(client.communicate(), timeout=120)
            assert client.returncode == 0
            counts.append(int(out))
    times = sorted(fake.rate_limit.request_times())
    assert sum(counts) == len(times)
    assert all(counts), f"every process made requests: {counts}"
    per_window = RPM / 60 * WINDOW
    slack = REQUEST_BURST + PROCESSES * SHARED_BUDGET_BLOCK
    busiest = _busiest(times, WINDOW)
    assert busiest <= per_window + slack, f"{busiest} requests in {WINDOW} s"
    assert busiest >= per_window / 2, f"only {busiest} requests in {WINDOW} s: starved"
    assert DEFAULT_API_KEY not in _stored_keys(durable_backend)


def _stored_keys(backend: Backend) -> str:
    """Every budget key the store holds, as one text."""
    kind, _, rest = backend.spec.partition(":")
    if kind == "sqlite":
        with sqlite3.connect(rest) as conn:
            rows = conn.execute("SELECT key FROM pleo_export_budgets").fetchall()
    else:
        schema, _, dsn = rest.partition(":")
        with psycopg.connect(dsn) as conn:
            rows = conn.execute(f"SELECT key FROM {schema}.budgets").fetchall()
    assert len(rows) == 1
    return str(rows)
