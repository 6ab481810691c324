"""Pleo's request budget: what it costs a request with budget to spare, and how close a fleet
sharing one budget through a coordinator comes to it.

1. ``await pleo.jobs.get(id)`` on an ``httpx.MockTransport``, with a budget that never runs
   short against none, interleaved; and ``RequestBudget.take()`` alone.
2. Four processes on one credential, each with the same budget shared through SQLite or
   PostgreSQL, read from the fake over loopback TCP as fast as the budget lets them; the fake's
   own arrival log gives the fleet's combined rate, set against the budget.

Run alone: ``.venv/bin/python benchmarks/bench_budget.py``.
"""

from __future__ import annotations

import asyncio
import bisect
import sys
import tempfile
import time
import uuid
from pathlib import Path

import httpx
from _common import API_KEY, BASE_URL, REPO, Goal, Report, fmt, interleave, interleave_async, median
from bench_request import BODY, JOB_ID

sys.path.insert(0, str(REPO / "tests"))
from _pg import PgUnavailable, start_cluster

__all__ = ["main", "run"]

#: The issue's goal: the limiter costs at most 5 µs a request when budget is to spare.
GOAL_US = 5.0
PROCESSES = 4
FLEET_RPM = 3000  # 50 a second: high, so a few seconds hold many blocks
FLEET_SECONDS = 4.0
CHILD_TASKS = 4


def _handler(request: httpx.Request) -> httpx.Response:
    return httpx.Response(200, content=BODY, headers={"content-type": "application/json"})


async def _per_request(calls: int, rounds: int) -> dict[str, list[float]]:
    from pleo_export import PleoExport

    def client(**options: object) -> PleoExport:
        http = httpx.AsyncClient(transport=httpx.MockTransport(_handler))
        return PleoExport(api_key=API_KEY, base_url=BASE_URL, http_client=http, **options)  # type: ignore[arg-type]

    plain, budgeted = client(), client(requests_per_minute=1e12)

    async def without() -> None:
        for _ in range(calls):
            await plain.jobs.get(JOB_ID)

    async def with_budget() -> None:
        for _ in range(calls):
            await budgeted.jobs.get(JOB_ID)

    cases = {"none": without, "budget": with_budget}
    for case in cases.values():
        await case()
    times = await interleave_async(cases, rounds=rounds)
    await plain.aclose()
    await budgeted.aclose()
    return {name: [t / calls * 1e6 for t in values] for name, values in times.items()}


def _take_alone(calls: int, rounds: int) -> list[float]:
    from pleo_export._budget import RequestBudget

    budget = RequestBudget(1e12)

    def takes() -> None:
        take = budget.take
        for _ in range(calls):
            take()

    return [t / calls * 1e6 for t in interleave({"take": takes}, rounds=rounds)["take"]]


async def _shared_takes(calls: int, rounds: int, path: Path) -> list[float]:
    from pleo_export._budget import RequestBudget
    from pleo_export.coordination import SQLiteCoordinator

    coordinator = SQLiteCoordinator(path)
    budget = RequestBudget(1e12, coordinator=coordinator, key="bench")

    async def takes() -> None:
        for _ in range(calls):
            if not budget.take():
                await budget.wait()

    await takes()
    times = await interleave_async({"shared": takes}, rounds=rounds, clock=time.perf_counter)
    await coordinator.aclose()
    return [t / calls * 1e6 for t in times["shared"]]


def _cost_report(quick: bool) -> Report:
    calls, rounds = (300, 5) if quick else (2000, 7)
    us = asyncio.run(_per_request(calls, rounds))
    take = median(_take_alone(20_000 if quick else 200_000, rounds))
    with tempfile.TemporaryDirectory() as tmp:
        shared = median(asyncio.run(_shared_takes(calls, rounds, Path(tmp) / "b.db")))
    none, budget = median(us["none"]), median(us["budget"])
    return Report(
        title="Request budget: cost per request with budget to spare (MockTransport)",
        header=["Case", "µs per call (median)", "min"],
        rows=[
            ["`await pleo.jobs.get(id)`, no budget", fmt(none), fmt(min(us["none"]))],
            ["same, `requests_per_minute` never short", fmt(budget), fmt(min(us["budget"]))],
            ["`RequestBudget.take()`: the budget's whole work per request", f"{take:.3f}", ""],
            [
                "a token of a budget shared through SQLite (one transaction a block)",
                fmt(shared),
                "",
            ],
        ],
        notes=[
            "With budget to spare an attempt costs the seam one synchronous `take()` (the goal "
            f"below): {take * 1000:.0f} ns. The two whole calls differ by "
            f"{budget - none:+.2f} µs, within the noise of a {fmt(none)} µs call on a shared "
            "machine. A shared budget adds one store transaction per block of 10 tokens "
            "(wall time, fsync included), which only a fleet pays.",
        ],
        goals=[Goal("budget's cost per request, budget to spare", take, GOAL_US, " µs")],
    )


async def _fleet(spec: str) -> tuple[list[float], list[str]]:
    from pleo_export.testing import FakePleo

    fake = FakePleo(seed=9, record_events=False)
    job = fake.add_job(items=1)
    async with fake.serve() as url:
        children = [
            await asyncio.create_subprocess_exec(
                sys.executable,
                __file__,
                "--child",
                spec,
                url,
                job,
                cwd=Path(__file__).parent,
                stdout=asyncio.subprocess.PIPE,
            )
            for _ in range(PROCESSES)
        ]
        outputs = []
        for child in children:
            out, _ = await child.communicate()
            if child.returncode != 0:
                raise RuntimeError(f"a fleet process failed ({child.returncode})")
            outputs.append(out.decode().strip())
    return sorted(fake.rate_limit.request_times()), outputs


def _busiest(times: list[float], window: float) -> int:
    return max(bisect.bisect_left(times, t + window) - i for i, t in enumerate(times))


def _fleet_row(engine: str, spec: str) -> tuple[list[str], float]:
    times, outputs = asyncio.run(_fleet(spec))
    budget = FLEET_RPM / 60
    # The middle of the run, when all four processes are up: start-up and the burst excluded.
    start, end = times[0] + 1.0, times[-1] - 0.5
    middle = bisect.bisect_left(times, end) - bisect.bisect_left(times, start)
    rate = middle / (end - start)
    requests = sum(int(out.split()[0]) for out in outputs)
    store_calls = sum(int(out.split()[1]) for out in outputs)
    row = [
        engine,
        f"{len(times):,}",
        fmt(rate),
        f"{rate / budget:.2f}×",
        str(_busiest(times, 1.0)),
        f"{requests / max(store_calls, 1):.1f}",
    ]
    return row, rate / budget


def _fleet_report() -> Report:
    rows, goals, notes = [], [], []
    with tempfile.TemporaryDirectory() as tmp:
        row, ratio = _fleet_row("SQLite", f"sqlite:{Path(tmp) / 'budget.db'}")
        rows.append(row)
        goals.append(Goal("fleet rate / budget, SQLite", ratio, 1.0))
    try:
        cluster = start_cluster(durable=True)
    except PgUnavailable as exc:
        notes.append(f"PostgreSQL not measured: {exc}")
    else:
        try:
            spec = f"postgres:b_{uuid.uuid4().hex[:8]}:{cluster.dsn}"
            row, ratio = _fleet_row("PostgreSQL", spec)
            rows.append(row)
            goals.append(Goal("fleet rate / budget, PostgreSQL", ratio, 1.0))
        finally:
            cluster.stop()
    notes.append(
        f"{PROCESSES} processes × {CHILD_TASKS} tasks, each process with `requests_per_minute="
        f"{FLEET_RPM}` ({FLEET_RPM // 60} a second) shared through the store, reading one job "
        f"for {FLEET_SECONDS:g} s. Rate: requests the fake logged per second between 1 s after "
        "the first and 0.5 s before the last. The busiest second may exceed the budget by what "
        "the fleet holds at once: the store's bucket (10) and one block per process (≤ 10 each)."
    )
    return Report(
        title=f"Shared request budget: {PROCESSES} processes on one credential (fake over TCP)",
        header=[
            "Store",
            "Requests",
            "Fleet rate /s",
            "Rate / budget",
            "Busiest second",
            "Requests per store call",
        ],
        rows=rows,
        notes=notes,
        goals=goals,
    )


def run(quick: bool = False) -> list[Report]:
    """The limiter's cost per request, and a fleet's combined rate against its budget."""
    started = time.perf_counter()
    reports = [_cost_report(quick), _fleet_report()]
    for report in reports:
        report.seconds = (time.perf_counter() - started) / len(reports)
    return reports


async def _child(spec: str, url: str, job: str) -> str:
    sys.path.insert(0, str(REPO / "tests" / "coordination"))
    from _backends import open_spec

    from pleo_export import PleoExport

    coordinator = open_spec(spec, lease_seconds=30.0)
    done = 0
    deadline = time.monotonic() + FLEET_SECONDS
    async with PleoExport(
        api_key=API_KEY, base_url=url, requests_per_minute=FLEET_RPM, shared_budget=coordinator
    ) as pleo:

        async def reader() -> None:
            nonlocal done
            while time.monotonic() < deadline:
                await pleo.jobs.get(job)
                done += 1

        await asyncio.gather(*(reader() for _ in range(CHILD_TASKS)))
        budget = pleo.request_budget
        assert budget is not None
        calls = budget.store_calls
    await coordinator.aclose()
    return f"{done} {calls}"


def main() -> None:
    """Print the tables (or, with ``--child``, be one process of the fleet)."""
    if sys.argv[1:2] == ["--child"]:
        print(asyncio.run(_child(*sys.argv[2:5])))
        return
    for report in run(quick="--quick" in sys.argv):
        print(report.text())


if __name__ == "__main__":
    main()
