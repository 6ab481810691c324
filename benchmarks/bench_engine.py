"""The export engine at production speed: concurrent booking against its floor N·B/C.

An ``ExportWorker`` exports one job of N items from the fake (in process) with a handler that
takes B = 20 ms per booking (a fast ERP), at concurrency C = 1 and C = 16, and at C = 16 with a
``PostgresCoordinator`` (local, fsync on) instead of the in-memory journal. The floor of a
booking-bound job is N·B/C: everything above it is the engine's (listing, journaling,
reporting, the final event).

Run alone: ``.venv/bin/python benchmarks/bench_engine.py``.
"""

from __future__ import annotations

import asyncio
import sys
import time
from contextlib import ExitStack
from typing import Any

import httpx
from _common import API_KEY, REPO, Goal, Report, fmt

sys.path.insert(0, str(REPO / "tests"))
from _pg import PgUnavailable, start_cluster

from pleo_export import Booked, ExportWorker, PleoExport
from pleo_export.testing import FakePleo

__all__ = ["main", "run"]

BOOKING = 0.020


async def _book(work: Any) -> Booked:
    await asyncio.sleep(BOOKING)  # the ERP's round trip
    return Booked(external_id=f"GL-{str(work.accounting_entry_id)[-6:]}")


async def _export(items: int, concurrency: int, coordinator: Any = None) -> float:
    """Wall seconds to export one fresh job of ``items`` items."""
    fake = FakePleo(seed=7)
    job = fake.add_job(items=items)
    http = httpx.AsyncClient(transport=fake.transport())
    async with PleoExport(api_key=API_KEY, base_url="http://127.0.0.1", http_client=http) as pleo:
        worker = ExportWorker(
            pleo, _book, concurrency=concurrency, coordinator=coordinator, resume_idle=0
        )
        began = time.perf_counter()
        await worker.run(until_idle=True)
        wall = time.perf_counter() - began
    await http.aclose()
    assert fake.job(job)["status"] == "completed", fake.job(job)
    return wall


def run(quick: bool = False) -> list[Report]:
    """C = 1, C = 16 and C = 16 on PostgreSQL, with their ratios."""
    started = time.perf_counter()
    few, many = (60, 480) if quick else (150, 1600)
    notes: list[str] = []
    walls: dict[str, tuple[int, int, float]] = {}
    walls["concurrency 1"] = (few, 1, asyncio.run(_export(few, 1)))
    walls["concurrency 16"] = (many, 16, asyncio.run(_export(many, 16)))
    with ExitStack() as stack:
        try:
            cluster = start_cluster(durable=True)
        except PgUnavailable as exc:
            notes.append(f"PostgreSQL not measured: {exc}.")
        else:
            stack.callback(cluster.stop)
            from pleo_export.coordination import PostgresCoordinator

            async def on_postgres() -> float:
                coordinator = PostgresCoordinator(cluster.dsn)
                try:
                    return await _export(many, 16, coordinator)
                finally:
                    await coordinator.aclose()

            walls["concurrency 16, PostgresCoordinator"] = (many, 16, asyncio.run(on_postgres()))
    rows = []
    for name, (items, concurrency, wall) in walls.items():
        floor = items * BOOKING / concurrency
        rows.append(
            [name, f"{items:,}", f"{fmt(wall)} s", f"{fmt(floor)} s", f"{items / wall:,.0f}"]
        )
    rate = {name: items / wall for name, (items, _, wall) in walls.items()}
    many_items, _, wall16 = walls["concurrency 16"]
    goals = [
        Goal("concurrency 16: wall / floor N·B/C", wall16 / (many_items * BOOKING / 16), 1.3),
        Goal(
            "items/s at concurrency 1 / at 16 (speed-up ≥ 10×)",
            rate["concurrency 1"] / rate["concurrency 16"],
            0.1,
        ),
    ]
    if "concurrency 16, PostgresCoordinator" in rate:
        goals.append(
            Goal(
                "concurrency 16: items/s without / with PostgresCoordinator (≥ 0.7×)",
                rate["concurrency 16"] / rate["concurrency 16, PostgresCoordinator"],
                1 / 0.7,
            )
        )
    report = Report(
        title=f"Export engine: booking-bound job, {BOOKING * 1000:.0f} ms per booking",
        header=["Case", "items", "wall", "floor N·B/C", "items/s"],
        rows=rows,
        notes=[
            "One job per case on the in-process fake; the handler sleeps 20 ms per booking. "
            "Goals (issue 24): wall ≤ 1.3× the floor at concurrency 16, ≥ 10× the items/s of "
            "concurrency 1, and PostgreSQL ≥ 0.7× the throughput of the in-memory journal.",
            *notes,
        ],
        goals=goals,
    )
    report.seconds = time.perf_counter() - started
    return [report]


def main() -> None:
    """Print the table."""
    for report in run(quick="--quick" in sys.argv):
        print(report.text())


if __name__ == "__main__":
    main()
