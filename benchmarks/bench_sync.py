"""Sync client overhead: ``pleo.jobs.get(id)`` through ``pleo_export.sync`` against the async
client's ``await pleo.jobs.get(id)`` and plain ``httpx`` calls.

The goal is on requests as a user sends them: ``GET /v3/export-jobs/{id}`` over loopback TCP
to the fake Pleo in a process of its own (``benchmarks/_fake_server.py``), each client with the
pool it makes itself, timed in this process's CPU time (the client's share; the server's is
its own process's). A real request waits for its answer, so both clients sleep and are woken
once a call; the sync client's portal adds a hand-off to its loop thread and back.

A second table times the portal alone: the same calls answered in-process by an
``httpx.MockTransport``, where the async call never waits and so never pays for a wake-up
while the sync call still wakes two threads; its ratio is the portal's cost at its harshest,
not a request's. It is measured once more with every thread of the process on one CPU (Linux
only): there a thread hand-off is a plain switch, with no CPU waking from idle, so what is left
is the portal's own work. On a virtual machine, work done just after a CPU woke from idle costs
more than the same work on a busy CPU.

Run alone: ``.venv/bin/python benchmarks/bench_sync.py``.
"""

from __future__ import annotations

import asyncio
import json
import os
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager

import httpx
from _common import (
    API_KEY,
    BASE_URL,
    Goal,
    Report,
    fake_server,
    fmt,
    interleave,
    median,
    no_gc,
    rotations,
)
from bench_request import _AUTH, BODY, JOB_ID

__all__ = ["main", "run"]

#: The issue's goal: a sync request costs at most 1.3 times the async one.
GOAL = 1.3

_LABELS = {
    "async": "`await pleo.jobs.get(id)` (async client, its own loop)",
    "sync": "`pleo.jobs.get(id)` (`pleo_export.sync`, from the main thread)",
    "async httpx": "plain `httpx.AsyncClient.get` + `json.loads`",
    "httpx": "plain `httpx.Client.get` + `json.loads`",
}


def _handler(request: httpx.Request) -> httpx.Response:
    return httpx.Response(200, content=BODY, headers={"content-type": "application/json"})


@contextmanager
def _one_cpu() -> Iterator[bool]:
    """Keep this thread, and the threads it starts, on one CPU; yield whether it could."""
    if not hasattr(os, "sched_setaffinity"):
        yield False
        return
    cpus = os.sched_getaffinity(0)
    os.sched_setaffinity(0, {min(cpus)})
    try:
        yield True
    finally:
        os.sched_setaffinity(0, cpus)


@contextmanager
def _fake_pleo() -> Iterator[tuple[str, str]]:
    """The fake Pleo in its own process, with one export job: its base URL and the job's id."""
    from pleo_export.sync import PleoExport

    with fake_server("--bare", "--items=5") as server:
        with PleoExport(api_key=API_KEY, base_url=server.url) as pleo:
            (job_id,) = [str(job.id) for job in pleo.jobs.list(company_id=server.companies[0][0])]
        yield server.url, job_id


def _both_clocks(
    cases: Mapping[str, Callable[[], object]], rounds: int
) -> dict[str, dict[str, list[float]]]:
    """``interleave`` reading the CPU and the wall clock around the same runs."""
    times: dict[str, dict[str, list[float]]] = {"cpu": {}, "wall": {}}
    for name in rotations(list(cases), rounds):
        with no_gc():
            cpu, wall = time.process_time(), time.perf_counter()
            cases[name]()
            wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        times["cpu"].setdefault(name, []).append(cpu)
        times["wall"].setdefault(name, []).append(wall)
    return times


def _measure_tcp(calls: int, rounds: int) -> dict[str, dict[str, list[float]]]:
    """µs per call of each case over loopback TCP, in this process's CPU and in wall time."""
    from pleo_export import PleoExport as AsyncPleoExport
    from pleo_export.sync import PleoExport

    with _fake_pleo() as (url, job_id):
        loop = asyncio.new_event_loop()
        async_pleo = AsyncPleoExport(api_key=API_KEY, base_url=url)
        sync_pleo = PleoExport(api_key=API_KEY, base_url=url)
        async_plain = httpx.AsyncClient(base_url=url, headers=_AUTH)
        plain = httpx.Client(base_url=url, headers=_AUTH)
        path = f"/v3/export-jobs/{job_id}"

        async def async_calls() -> None:
            for _ in range(calls):
                await async_pleo.jobs.get(job_id)

        async def async_plain_calls() -> None:
            for _ in range(calls):
                json.loads((await async_plain.get(path)).raise_for_status().content)

        def sync_case() -> None:
            for _ in range(calls):
                sync_pleo.jobs.get(job_id)

        def plain_case() -> None:
            for _ in range(calls):
                json.loads(plain.get(path).raise_for_status().content)

        cases: dict[str, Callable[[], object]] = {
            "async": lambda: loop.run_until_complete(async_calls()),
            "sync": sync_case,
            "async httpx": lambda: loop.run_until_complete(async_plain_calls()),
            "httpx": plain_case,
        }
        try:
            for case in cases.values():  # warm up: imports, connections, the portal's thread
                case()
            times = _both_clocks(cases, rounds)
        finally:
            sync_pleo.close()
            loop.run_until_complete(async_pleo.aclose())
            loop.run_until_complete(async_plain.aclose())
            loop.close()
            plain.close()
    return _per_call(times, calls)


def _measure_mock(
    calls: int, rounds: int, *, wall: bool = True
) -> dict[str, dict[str, list[float]]]:
    """µs per call of each case against a MockTransport, in CPU and (``wall``) wall time."""
    from pleo_export import PleoExport as AsyncPleoExport
    from pleo_export.sync import PleoExport

    mock = httpx.MockTransport(_handler)
    loop = asyncio.new_event_loop()
    async_pleo = AsyncPleoExport(
        api_key=API_KEY, base_url=BASE_URL, http_client=httpx.AsyncClient(transport=mock)
    )
    sync_pleo = PleoExport(
        api_key=API_KEY, base_url=BASE_URL, http_client=httpx.AsyncClient(transport=mock)
    )
    plain = httpx.Client(transport=mock, base_url=BASE_URL, headers=_AUTH)
    path = f"/v3/export-jobs/{JOB_ID}"

    async def async_calls() -> None:
        for _ in range(calls):
            await async_pleo.jobs.get(JOB_ID)

    def sync_case() -> None:
        for _ in range(calls):
            sync_pleo.jobs.get(JOB_ID)

    def plain_case() -> None:
        for _ in range(calls):
            json.loads(plain.get(path).content)

    cases: dict[str, Callable[[], object]] = {
        "async": lambda: loop.run_until_complete(async_calls()),
        "sync": sync_case,
        "httpx": plain_case,
    }
    for case in cases.values():  # warm up: imports, lazy models, the portal's thread
        case()
    try:
        times = _both_clocks(cases, rounds) if wall else {"cpu": interleave(cases, rounds=rounds)}
    finally:
        sync_pleo.close()
        loop.run_until_complete(async_pleo.aclose())
        loop.close()
        plain.close()
    return _per_call(times, calls)


def _per_call(
    times: dict[str, dict[str, list[float]]], calls: int
) -> dict[str, dict[str, list[float]]]:
    return {
        clock: {name: [t / calls * 1e6 for t in values] for name, values in found.items()}
        for clock, found in times.items()
    }


_HEADER = ["Call", "CPU µs/call", "vs async", "vs httpx.Client", "wall µs/call", "wall vs async"]


def _row(
    label: str, name: str, cpu: dict[str, float], wall: dict[str, float] | None = None
) -> list[str]:
    """A table row: ``name``'s CPU (and wall) µs per call, with its ratios."""
    ratios = [f"{cpu[name] / cpu['async']:.2f}×", f"{cpu[name] / cpu['httpx']:.2f}×"]
    if wall is None:
        return [label, fmt(cpu[name]), *ratios, "", ""]
    return [label, fmt(cpu[name]), *ratios, fmt(wall[name]), f"{wall[name] / wall['async']:.2f}×"]


def _medians(us: dict[str, list[float]]) -> dict[str, float]:
    return {name: median(values) for name, values in us.items()}


def _tcp_report(calls: int, rounds: int) -> Report:
    us = _measure_tcp(calls, rounds)
    cpu, wall = _medians(us["cpu"]), _medians(us["wall"])
    rows = [_row(_LABELS[name], name, cpu, wall) for name in _LABELS]
    return Report(
        title="Sync client overhead (GET one export job over loopback TCP, the fake Pleo)",
        header=_HEADER,
        rows=rows,
        goals=[
            Goal(
                "sync `jobs.get` CPU time / async `jobs.get` CPU time, over TCP",
                cpu["sync"] / cpu["async"],
                GOAL,
            )
        ],
        notes=[
            f"Goal (issue 28): a sync request costs at most {GOAL}× an async one in CPU time; "
            "it is also compared with a plain `httpx.Client` call, the floor of any sync client.",
            "Each client makes its own connection pool and keeps one connection to the fake "
            "(`benchmarks/_fake_server.py`, its own process); CPU time is this process's, both "
            f"of the sync client's threads included. {calls} calls per round, {rounds} "
            "interleaved rounds (medians; CPU and wall clock read around the same runs); the "
            "cyclic GC is off while timing.",
            f"The portal costs {cpu['sync'] - cpu['async']:+.0f} µs of CPU per request and "
            f"{wall['sync'] - wall['async']:+.0f} µs of wall time.",
            f"The async stack's own price: `httpx.AsyncClient` costs "
            f"{cpu['async httpx'] / cpu['httpx']:.2f}× `httpx.Client` over a socket, and the "
            f"async SDK {cpu['async'] / cpu['async httpx']:.2f}× a bare `httpx.AsyncClient`: "
            "the sync client pays the async stack's price, as it drives the async client.",
        ],
    )


def _mock_report(calls: int, rounds: int) -> Report:
    us = _measure_mock(calls, rounds)
    with _one_cpu() as pinned:
        one_cpu = _medians(_measure_mock(calls, rounds, wall=False)["cpu"]) if pinned else None
    cpu, wall = _medians(us["cpu"]), _medians(us["wall"])
    names = ("async", "sync", "httpx")
    rows = [_row(_LABELS[name], name, cpu, wall) for name in names]
    notes = [
        "The same call answered in-process by an `httpx.MockTransport`: no socket, no wait. "
        "The async call then never sleeps, so this ratio is the portal's cost at its harshest, "
        "not a request's; the goal is on the table above.",
        f"{calls} calls per round, {rounds} interleaved rounds per measurement (medians); the "
        "cyclic GC is off while timing.",
        f"The portal costs {cpu['sync'] - cpu['async']:+.1f} µs of CPU per call (one post to "
        "the loop's inbox and ring of its eventfd, a task, a write back to the caller's "
        f"eventfd) and {wall['sync'] - wall['async']:+.1f} µs of wall time, the wait for two "
        "thread wake-ups included.",
        f"Against a plain `httpx.Client`: the sync client {cpu['sync'] / cpu['httpx']:.2f}×, "
        f"the async client {cpu['async'] / cpu['httpx']:.2f}× (validation, the auth flow, "
        "model parsing and the drift check are the facade's own work).",
    ]
    if one_cpu is not None:
        rows += [
            _row(f"{_LABELS[name]}, every thread on one CPU", name, one_cpu)
            for name in ("async", "sync")
        ]
        notes.append(
            f"Every thread on one CPU (CPU time): the portal costs "
            f"{one_cpu['sync'] - one_cpu['async']:+.1f} µs a call, "
            f"{one_cpu['sync'] / one_cpu['async']:.2f}× the async call. Free, each sync call "
            "wakes two CPUs from idle and the async one none, and on a virtual machine the "
            "work that follows a wake costs more than on a busy CPU: the difference between "
            "the two ratios."
        )
    return Report(
        title="Sync client: the portal alone (GET one export job, httpx.MockTransport)",
        header=_HEADER,
        rows=rows,
        notes=notes,
    )


def run(quick: bool = False) -> list[Report]:
    """Measure µs per call over TCP (the goal) and against a MockTransport (the portal alone)."""
    reports = []
    for make, calls, rounds in (
        (_tcp_report, *((100, 5) if quick else (500, 7))),
        (_mock_report, *((300, 5) if quick else (2000, 7))),
    ):
        started = time.perf_counter()
        report = make(calls, rounds)
        report.seconds = time.perf_counter() - started
        reports.append(report)
    return reports


def main() -> None:
    """Print the tables."""
    for report in run():
        print(report.text())


if __name__ == "__main__":
    main()
