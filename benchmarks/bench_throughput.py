"""End-to-end throughput: the demo's export flow over loopback TCP against the fake server.

The client runs ``examples/export_to_ledger.py``'s ``export()``: an ``ExportWorker`` claims each
pending job, streams its items, books each into the demo's SQLite ledger, reports outcomes in
batches of 100, posts the final event, and the ledger is checked against Pleo. The fake runs in
another process (``benchmarks/_fake_server.py``), so its CPU time, read from ``/proc``, is the
server's share; the client's share is this process's CPU time.

Run alone: ``.venv/bin/python benchmarks/bench_throughput.py``.
"""

from __future__ import annotations

import asyncio
import io
import os
import sys
import tempfile
import time
from pathlib import Path

from _common import API_KEY, REPO, Report, fake_server, fmt, median

__all__ = ["main", "run"]

_TICK = os.sysconf("SC_CLK_TCK")


class _CountCalls:
    """Counts calls of httpcore's ``current_async_library`` (run per lock and per request)."""

    def __init__(self) -> None:
        import httpcore._synchronization as sync

        self.module, self.original, self.calls = sync, sync.current_async_library, 0

    def __enter__(self) -> _CountCalls:
        def counted() -> str:
            self.calls += 1
            return self.original()

        self.module.current_async_library = counted
        return self

    def __exit__(self, *exc: object) -> None:
        self.module.current_async_library = self.original

    def cost_us(self, *, stand_in: bool = False) -> float:
        """CPU µs of one call, as installed (it retries ``import sniffio`` if that is absent).

        With ``stand_in``, a minimal ``sniffio`` module sits in ``sys.modules`` meanwhile, which
        is what the call costs once sniffio is importable.
        """
        import types

        saved = sys.modules.get("sniffio")
        if stand_in:
            stub = types.ModuleType("sniffio")
            stub.current_async_library = lambda: "asyncio"  # type: ignore[attr-defined]
            sys.modules["sniffio"] = stub

        async def measure() -> float:  # inside a task, as httpcore calls it
            started = time.process_time()
            for _ in range(2000):
                self.original()
            return (time.process_time() - started) / 2000 * 1e6

        try:
            return asyncio.run(measure())
        finally:
            if stand_in:
                if saved is None:
                    del sys.modules["sniffio"]
                else:
                    sys.modules["sniffio"] = saved


def _sniffio_installed() -> bool:
    import importlib.util

    return importlib.util.find_spec("sniffio") is not None


def _cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of a process, from ``/proc/<pid>/stat``."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / _TICK


async def _export_round(url: str, companies: list[str], ledger_path: Path) -> int:
    sys.path.insert(0, str(REPO / "examples"))
    from export_to_ledger import export  # type: ignore[import-not-found]
    from ledger import Ledger  # type: ignore[import-not-found]

    from pleo_export import PleoExport

    ledger = Ledger(ledger_path)
    try:
        async with PleoExport(api_key=API_KEY, base_url=url) as pleo:
            # Receipts off: this measures the item flow; bench_files measures downloads.
            status: int = await export(
                pleo, ledger, once=True, company_ids=companies, out=io.StringIO(), receipts=False
            )
        return status
    finally:
        ledger.close()


def run(quick: bool = False) -> list[Report]:
    """Export ``rounds`` fresh sets of jobs; median wall time, items/s and CPU shares."""
    started = time.perf_counter()
    rounds, jobs, items = (5, 2, 500) if quick else (5, 4, 1000)
    per_round = jobs * items
    samples: list[dict[str, float]] = []
    counter = _CountCalls()
    with (
        fake_server(f"--rounds={rounds + 1}", f"--jobs={jobs}", f"--items={items}") as server,
        tempfile.TemporaryDirectory(prefix="pleo-bench-ledger-") as tmp,
    ):
        time.sleep(0.2)
        for n, round_companies in enumerate(server.companies):
            server_cpu, client_cpu = _cpu_seconds(server.pid), time.process_time()
            wall = time.perf_counter()
            with counter:
                status = asyncio.run(
                    _export_round(server.url, round_companies, Path(tmp) / f"ledger{n}.sqlite")
                )
            wall = time.perf_counter() - wall
            if status != 0:
                raise RuntimeError("the demo's ledger check failed")
            if n == 0:
                continue  # warm-up round: imports, first connections
            samples.append(
                {
                    "wall": wall,
                    "client": time.process_time() - client_cpu,
                    "server": _cpu_seconds(server.pid) - server_cpu,
                }
            )

    lookup_us, importable_us = counter.cost_us(), counter.cost_us(stand_in=True)
    lookups_per_item = counter.calls / (per_round * (rounds + 1))
    sniffio = "installed" if _sniffio_installed() else "not installed"
    wall = median([s["wall"] for s in samples])
    client = median([s["client"] for s in samples])
    server_cpu = median([s["server"] for s in samples])
    us = 1e6 / per_round
    report = Report(
        title=f"End-to-end export throughput (demo flow, {jobs} jobs × {items:,} items, TCP)",
        header=["Measure", "per round (median)", "per item", "items/s"],
        rows=[
            ["wall time", f"{fmt(wall)} s", f"{fmt(wall * us)} µs", f"{per_round / wall:,.0f}"],
            [
                "client CPU (SDK + ledger + worker)",
                f"{fmt(client)} s",
                f"{fmt(client * us)} µs",
                f"{per_round / client:,.0f}",
            ],
            [
                "fake server CPU (other process)",
                f"{fmt(server_cpu)} s",
                f"{fmt(server_cpu * us)} µs",
                f"{per_round / server_cpu:,.0f}",
            ],
        ],
        notes=[
            f"{rounds} rounds after a warm-up round, each exporting {jobs} fresh pending jobs "
            f"of {items:,} items (about 1 in 40 items is refused by the ledger, as in the demo).",
            "Per item the client fetches the export item and its job item, books it into "
            "SQLite and reports it in a batch of 100; the server generates the item and keeps "
            "its status.",
            f"Client CPU is {client / wall:.0%} of the wall time, server CPU "
            f"{server_cpu / wall:.0%}; the two overlap on the machine's cores.",
            f"httpcore asks which async library runs (`current_async_library()`) "
            f"{lookups_per_item:.2f} times an item; with `sniffio` {sniffio}, a call costs "
            f"{lookup_us:.1f} µs, i.e. {lookup_us * lookups_per_item:.0f} µs an item "
            f"({lookup_us * lookups_per_item / (client * us):.0%} of the client's CPU). Without "
            "sniffio (anyio ≥ 4.11 no longer pulls it in) httpcore 1.0.9 retries a failing "
            "`import sniffio` on every call (encode/httpcore#1103); with an importable "
            f"sniffio (measured with a stand-in module) a call costs {importable_us:.1f} µs.",
        ],
    )
    report.seconds = time.perf_counter() - started
    return [report]


def main() -> None:
    """Print the table."""
    for report in run(quick="--quick" in sys.argv):
        print(report.text())


if __name__ == "__main__":
    main()
