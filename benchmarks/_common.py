"""What every benchmark shares: interleaved timing, the report type, the machine, test data.

Each ``bench_*.py`` module has ``run(quick=False) -> list[Report]`` and a ``main()`` that prints
its tables; ``run_all.py`` runs them all and writes ``BENCHMARKS.md``. Figures are medians of
interleaved repetitions (every case once per round, in rotating order), so a slow moment of the
machine hits all cases alike and ratios are measured within one run.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import gc
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = [
    "API_KEY",
    "BASE_URL",
    "REPO",
    "FakeServer",
    "Goal",
    "PageServer",
    "Report",
    "export_item_pages",
    "fake_server",
    "fmt",
    "interleave",
    "interleave_async",
    "machine",
    "median",
    "no_gc",
    "rotations",
]

REPO = Path(__file__).resolve().parent.parent
#: The fake's default API key (``pleo_export.testing.DEFAULT_API_KEY``).
API_KEY = "pleo-test-key"
#: Any loopback URL: with a MockTransport nothing is sent, and the SDK allows http there.
BASE_URL = "http://127.0.0.1:8000"


@dataclass
class Goal:
    """A target the issue sets: ``value`` must be at most ``limit`` (a ratio unless ``unit``)."""

    name: str
    value: float
    limit: float
    unit: str = "×"

    @property
    def met(self) -> bool:
        """Whether the measured value is within the limit."""
        return self.value <= self.limit

    def line(self) -> str:
        """One markdown table row: goal, measured, limit, verdict."""
        verdict = "met" if self.met else "**not met**"
        measured, limit = f"{fmt(self.value)}{self.unit}", f"{fmt(self.limit)}{self.unit}"
        return f"| {self.name} | {measured} | ≤ {limit} | {verdict} |"


@dataclass
class Report:
    """One benchmark's results: a table, notes, and the goals it checks."""

    title: str
    header: list[str]
    rows: list[list[str]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    goals: list[Goal] = field(default_factory=list)
    seconds: float = 0.0

    def markdown(self) -> str:
        """The report as a markdown section."""
        lines = [f"## {self.title}", ""]
        if self.rows:
            lines.append("| " + " | ".join(self.header) + " |")
            lines.append("|" + "|".join(" --- " for _ in self.header) + "|")
            lines.extend("| " + " | ".join(row) + " |" for row in self.rows)
            lines.append("")
        if self.goals:
            lines += ["| Goal | Measured | Limit | |", "| --- | --- | --- | --- |"]
            lines.extend(goal.line() for goal in self.goals)
            lines.append("")
        lines.extend(f"- {note}" for note in self.notes)
        if self.notes:
            lines.append("")
        return "\n".join(lines)

    def text(self) -> str:
        """The report as plain text for the terminal."""
        out = [f"== {self.title} ({self.seconds:.1f} s)"]
        table = [self.header, *self.rows]
        if self.rows:
            widths = [max(len(row[i]) for row in table) for i in range(len(self.header))]
            for n, row in enumerate(table):
                out.append(
                    "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True))
                )
                if n == 0:
                    out.append("  ".join("-" * width for width in widths))
        for goal in self.goals:
            verdict = "met" if goal.met else "NOT MET"
            out.append(
                f"goal: {goal.name}: {fmt(goal.value)}{goal.unit} "
                f"(limit {fmt(goal.limit)}{goal.unit}) {verdict}"
            )
        out.extend(f"note: {note}" for note in self.notes)
        return "\n".join(out)


def fmt(value: float) -> str:
    """A figure with about three significant digits."""
    if value >= 100:
        return f"{value:,.0f}"
    if value >= 10:
        return f"{value:.1f}"
    return f"{value:.2f}"


def median(values: list[float]) -> float:
    """The median of the repetitions."""
    return statistics.median(values)


@contextmanager
def no_gc(off: bool = True) -> Iterator[None]:
    """Collect once, then keep the cyclic GC out of a timed block (as ``timeit`` does).

    With ``off=False`` only the collection happens: the GC runs in the block as it would in
    an application (for loops over many pages, where its cost is part of the bill).
    """
    gc.collect()
    enabled = gc.isenabled()
    if off:
        gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def rotations(names: Sequence[str], rounds: int) -> Iterator[str]:
    """Every name once per round, the order rotated by one place each round."""
    for n in range(rounds):
        shift = n % len(names)
        yield from [*names[shift:], *names[:shift]]


def interleave(
    cases: Mapping[str, Callable[[], object]],
    *,
    rounds: int,
    clock: Callable[[], float] = time.process_time,
    gc_off: bool = True,
) -> dict[str, list[float]]:
    """Run every case once per round, rotating the order; return seconds per run per case.

    The default clock is the process's CPU time: on a shared machine other processes then
    slow a case down far less than they would its wall time. Pass ``time.perf_counter`` for
    anything that waits.
    """
    times: dict[str, list[float]] = {name: [] for name in cases}
    for name in rotations(list(cases), rounds):
        with no_gc(gc_off):
            started = clock()
            cases[name]()
            times[name].append(clock() - started)
    return times


async def interleave_async(
    cases: Mapping[str, Callable[[], Awaitable[object]]],
    *,
    rounds: int,
    clock: Callable[[], float] = time.process_time,
    gc_off: bool = True,
) -> dict[str, list[float]]:
    """``interleave`` for coroutine functions, in the running event loop."""
    times: dict[str, list[float]] = {name: [] for name in cases}
    for name in rotations(list(cases), rounds):
        with no_gc(gc_off):
            started = clock()
            await cases[name]()
            times[name].append(clock() - started)
    return times


def machine() -> dict[str, str]:
    """Where the figures were measured: CPU, cores, Python, library versions, date."""
    import httpx

    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    versions = {"httpx": httpx.__version__}
    for name in ("orjson", "attrs", "stamina", "uvicorn"):
        try:
            module = __import__(name)
            versions[name] = getattr(module, "__version__", "?")
        except ImportError:
            versions[name] = "not installed"
    return {
        "CPU": cpu,
        "Cores": str(
            len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
        ),
        "OS": f"{platform.system()} {platform.release()}",
        "Python": f"{platform.python_implementation()} {sys.version.split()[0]}",
        **versions,
        "Date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
    }


def export_item_pages(pages: int, *, page_size: int = 100, seed: int = 7) -> list[bytes]:
    """The ``data`` arrays of ``pages`` distinct pages of v3 export items, as JSON bytes.

    The items come from the fake server's seeded generator (``pleo_export.testing``), read
    through its in-process transport exactly as it serves them, so they have the mix of item
    types, nulls, lines, taxes and files the fake produces.
    """
    return asyncio.run(_fetch_item_pages(pages, page_size, seed))


async def _fetch_item_pages(pages: int, page_size: int, seed: int) -> list[bytes]:
    import httpx

    from pleo_export.testing import FakePleo

    fake = FakePleo(seed=seed, record_events=False)
    job_id = fake.add_job(items=pages * page_size, status="in_progress")
    out: list[bytes] = []
    async with httpx.AsyncClient(
        transport=fake.transport(), base_url="http://pleo", auth=(API_KEY, "")
    ) as client:
        after: str | None = None
        for _ in range(pages):
            params: dict[str, Any] = {"job_id": job_id, "limit": page_size}
            if after is not None:
                params["after"] = after
            response = await client.get("/v3/export-items", params=params)
            response.raise_for_status()
            body = response.json()
            out.append(json.dumps(body["data"], separators=(",", ":")).encode())
            after = body["pagination"]["endCursor"]
    return out


@dataclass
class FakeServer:
    """The fake Pleo in a process of its own (``benchmarks/_fake_server.py``)."""

    url: str
    #: The company ids of each round the server was seeded with.
    companies: list[list[str]]
    pid: int


@contextmanager
def fake_server(*args: str) -> Iterator[FakeServer]:
    """Run ``benchmarks/_fake_server.py`` with ``args`` until the block ends."""
    server = subprocess.Popen(
        [sys.executable, str(REPO / "benchmarks" / "_fake_server.py"), *args],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert server.stdout is not None
        url = server.stdout.readline().strip()
        yield FakeServer(url, json.loads(server.stdout.readline()), server.pid)
    finally:
        server.terminate()
        server.wait(10)


class PageServer:
    """Serves ``GET /v3/export-items`` from pre-built item JSON through ``httpx.MockTransport``.

    Page ``i`` reuses the ``i % len(data)``-th pre-built ``data`` array; only the small
    pagination envelope (cursor ``p<i>``) is written per request, so serving costs a few µs and
    the client's work dominates. Pages are made on request: nothing grows with ``pages``.
    """

    def __init__(self, data: list[bytes], pages: int, *, page_size: int = 100) -> None:
        self.data = data
        self.pages = pages
        self.page_size = page_size
        self.requests = 0

    def body(self, index: int, limit: int) -> bytes:
        """The JSON body of page ``index``."""
        last = index >= self.pages - 1
        pagination = {
            "currentRequestPagination": {
                "parameters": {},
                "limit": limit,
                "after": f"p{index}" if index else None,
            },
            "hasNextPage": not last,
            "hasPreviousPage": index > 0,
            "startCursor": f"s{index}",
            "endCursor": f"p{index + 1}",
            "total": self.pages * self.page_size,
        }
        if not index:
            del pagination["currentRequestPagination"]["after"]  # type: ignore[attr-defined]
        return (
            b'{"data":'
            + self.data[index % len(self.data)]
            + b',"pagination":'
            + json.dumps(pagination, separators=(",", ":")).encode()
            + b"}"
        )

    def handler(self, request: Any) -> Any:
        """The ``MockTransport`` handler."""
        import httpx

        self.requests += 1
        after = request.url.params.get("after")
        index = int(after[1:]) if after else 0
        limit = int(request.url.params.get("limit", self.page_size))
        return httpx.Response(
            200, content=self.body(index, limit), headers={"content-type": "application/json"}
        )
