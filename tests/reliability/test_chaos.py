"""Chaos: four worker processes share one coordinator while the fake fails and workers die.

The fake Pleo serves over loopback TCP from a thread of this process and injects 503s, 429s,
dropped connections and lost responses on every route (listings, item updates, events). Four
``_chaos_worker.py`` processes share one ``PostgresCoordinator`` (then, in a second test, one
``SQLiteCoordinator`` file) and export 20 jobs of 100 items. Fifteen times, at seeded random
moments, a random worker is SIGKILLed and started again. Each handler call appends a ``start``
and an ``end`` line to a shared log; each kill appends a ``kill`` line for its process.

Pass: every job final; every item's status the one its outcome gives, never another in the
fake's update log; no two calls for one entry overlap (a call is over at its ``end`` or its
process's ``kill``); every repeated call has ``in_doubt`` set; every item Pleo shows successful
had a completed handler call that booked it.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from pleo_export.testing import FakePleo

from ._chaos_worker import expected_status
from ._figures import record

pytestmark = [pytest.mark.slow, pytest.mark.timeout(150)]

WORKERS = 4
CONCURRENCY = 8  # handler calls in flight per job in each worker (_chaos_worker)
JOBS = 20
ITEMS = 100
KILLS = 15
DEADLINE = 60.0
HERE = Path(__file__).resolve().parent


@dataclass
class Chaos:
    """What one chaos run did and saw."""

    kills: int = 0
    faults: dict[str, int] = field(default_factory=dict)
    calls: int = 0
    in_doubt_calls: int = 0
    repeated_calls: int = 0
    seconds: float = 0.0


def _start(url: str, spec: str, log: Path, out: Path) -> subprocess.Popen[bytes]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PLEO_")}
    with out.open("ab") as sink:
        return subprocess.Popen(
            [sys.executable, str(HERE / "_chaos_worker.py"), url, spec, str(log)],
            stdout=sink, stderr=subprocess.STDOUT, env=env, cwd=HERE,
        )  # fmt: skip


def _note_kill(log: Path, pid: int) -> None:
    fd = os.open(log, os.O_WRONLY | os.O_APPEND | os.O_CREAT)
    try:
        os.write(fd, f"kill - 0 0 {pid} -\n".encode())
    finally:
        os.close(fd)


def _busy_pids(lines: list[str]) -> set[int]:
    """Processes with a handler call started and not yet ended."""
    open_calls: dict[str, int] = {}
    for line in lines:
        kind, entry, _, _, pid, _ = line.split()
        if kind == "start":
            open_calls[entry] = int(pid)
        elif kind == "end":
            open_calls.pop(entry, None)
    return set(open_calls.values())


def _run(spec: str, tmp: Path, seed: int, *, jobs_count: int = JOBS, kills: int = KILLS) -> Chaos:
    rng = random.Random(f"chaos|{seed}")
    fake = FakePleo(seed=seed)
    jobs = [fake.add_job(fake.add_company(), items=ITEMS) for _ in range(jobs_count)]
    fake.faults.add("status", status=503, rate=0.03)
    fake.faults.add("rate_limit", rate=0.02, retry_after=0)
    fake.faults.add("drop", rate=0.02)
    fake.faults.add("lost_response", rate=0.03)
    log, out = tmp / "calls.log", tmp / "workers.out"
    chaos = Chaos()
    began = time.monotonic()
    with fake.serve() as url:
        workers = [_start(url, spec, log, out) for _ in range(WORKERS)]
        # Kills land while items are being booked: each after a seeded number of handler
        # calls more, and preferably on a worker that has a call in progress. The gaps add up
        # to at most two thirds of the items, so every kill lands before the jobs are done.
        gap = max(21, 2 * jobs_count * ITEMS // (3 * kills))
        next_kill = rng.randint(20, gap)
        try:
            while True:
                assert time.monotonic() - began < DEADLINE, out.read_text()[-3000:]
                if all(fake.job(j)["status"] not in ("pending", "in_progress") for j in jobs):
                    break
                lines = log.read_text().splitlines() if log.exists() else []
                if chaos.kills < kills and len(lines) >= next_kill:
                    busy = _busy_pids(lines)
                    index = rng.choice(
                        [i for i, w in enumerate(workers) if w.pid in busy] or range(WORKERS)
                    )
                    victim = workers[index]
                    victim.send_signal(signal.SIGKILL)
                    victim.wait(10)
                    _note_kill(log, victim.pid)
                    chaos.kills += 1
                    workers[index] = _start(url, spec, log, out)
                    next_kill = len(lines) + rng.randint(20, gap)
                time.sleep(0.01)
        finally:
            for worker in workers:
                worker.send_signal(signal.SIGKILL)
                worker.wait(10)
                _note_kill(log, worker.pid)
        chaos.seconds = time.monotonic() - began
        chaos.faults = dict(fake.faults.counts)
        with fake.faults.paused():
            _judge(fake, jobs, log, chaos)
    return chaos


def _judge(fake: FakePleo, jobs: list[str], log: Path, chaos: Chaos) -> None:
    open_calls: dict[str, int] = {}  # entry → pid of its call in progress
    calls: Counter[str] = Counter()
    completed: dict[str, str] = {}  # entry → status its completed call booked
    for line in log.read_text().splitlines():
        kind, entry, in_doubt, _token, pid, status = line.split()
        if kind == "kill":
            open_calls = {e: p for e, p in open_calls.items() if p != int(pid)}
        elif kind == "start":
            assert entry not in open_calls, f"two calls for {entry} overlap"
            if calls[entry]:
                assert in_doubt == "1", f"{entry} handed out again without in_doubt"
                chaos.repeated_calls += 1
            calls[entry] += 1
            chaos.in_doubt_calls += in_doubt == "1"
            open_calls[entry] = int(pid)
        else:
            assert open_calls.pop(entry, None) == int(pid), line
            completed[entry] = status
    chaos.calls = sum(calls.values())
    for job in jobs:
        assert fake.job(job)["status"] in ("completed", "completed_with_errors"), job
        for entry in fake.accounting_entry_ids(job):
            item = fake.item(job, entry)
            assert item["status"] == expected_status(entry), (job, entry, item["status"])
            if item["status"] == "successful":
                assert completed.get(entry) == "successful", f"{entry}: no completed call"
        flips = [
            e.accounting_entry_id
            for e in fake.events(job, "item_update")
            if e.status != expected_status(e.accounting_entry_id or "")
        ]
        assert flips == [], f"job {job}: statuses flipped for {flips[:3]}"
    assert len(calls) == len(jobs) * ITEMS


def _figures(name: str, chaos: Chaos, *, jobs_count: int = JOBS) -> None:
    record(
        "chaos",
        **{
            f"{name}_workers_jobs_items": f"{WORKERS} × {jobs_count} × {ITEMS}",
            f"{name}_concurrency": CONCURRENCY,
            f"{name}_kills": chaos.kills,
            f"{name}_faults": chaos.faults,
            f"{name}_handler_calls": chaos.calls,
            f"{name}_calls_in_doubt": chaos.in_doubt_calls,
            f"{name}_repeated_calls": chaos.repeated_calls,
            f"{name}_overlaps_or_repeats_not_in_doubt": 0,
            f"{name}_wall_time_s": round(chaos.seconds, 1),
        },
    )


def test_chaos_on_postgres(postgres_dsn: str, tmp_path: Path) -> None:
    """Four workers sharing one PostgresCoordinator survive 15 SIGKILLs under faults with every
    item booked right, no overlapping calls and every repeat marked in doubt."""
    chaos = _run(f"postgres:{postgres_dsn}|chaos", tmp_path, seed=41)
    assert chaos.kills == KILLS
    _figures("postgres", chaos)


def test_chaos_on_sqlite(tmp_path: Path) -> None:
    """The same with one SQLiteCoordinator file shared by the four processes."""
    chaos = _run(f"sqlite:{tmp_path / 'journal.sqlite'}", tmp_path, seed=42)
    assert chaos.kills == KILLS
    _figures("sqlite", chaos)


#: The short form with batches: fewer jobs and kills, batch handlers of BATCH items.
SHORT_JOBS = 8
SHORT_KILLS = 6
BATCH = 10


@pytest.mark.parametrize("backend", ["postgres", "sqlite"])
def test_chaos_with_batch_handlers(
    backend: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest
) -> None:
    """Four workers with batch handlers (10 items a call, 8 batches in flight per job, both
    answer forms) survive SIGKILLs under faults: every item booked right, no two calls for one
    entry overlapping, every repeat in doubt. A batch handed out before all its intents are
    journaled, or an item of a killed batch offered again as new, fails the judge."""
    monkeypatch.setenv("CHAOS_WORKER_BATCH", str(BATCH))
    if backend == "postgres":
        dsn = request.getfixturevalue("postgres_dsn")
        spec = f"postgres:{dsn}|chaos_batches"
    else:
        spec = f"sqlite:{tmp_path / 'journal.sqlite'}"
    chaos = _run(spec, tmp_path, seed=44, jobs_count=SHORT_JOBS, kills=SHORT_KILLS)
    assert chaos.kills == SHORT_KILLS
    _figures(f"batches_{backend}", chaos, jobs_count=SHORT_JOBS)
