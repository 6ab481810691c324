"""Several real processes racing for the jobs of one company through SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import itertools
import sys
import uuid
from pathlib import Path

from _backends import Backend

from pleo_export._outcome import JobRef
from pleo_export.coordination import Lease

RACER = Path(__file__).with_name("_racer.py")
PROCESSES = 4
ROUNDS = 25


async def test_racing_processes_never_overlap_and_tokens_grow(
    durable_backend: Backend, tmp_path: Path
) -> None:
    """Four processes lease two jobs of one company over and over: no two leases overlap in
    time, every token is larger than the one before, and each lease's intent was journaled;
    fails if lease exclusivity or token order breaks between processes."""
    company = uuid.uuid4()
    jobs = [uuid.uuid4(), uuid.uuid4()]
    log = tmp_path / "race.log"
    # No coordinator opens the store first: the racers also race to create its tables.
    racers = [
        await asyncio.create_subprocess_exec(
            sys.executable,
            str(RACER),
            durable_backend.spec,
            str(log),
            f"racer-{n}",
            str(ROUNDS),
            str(company),
            *map(str, jobs),
            cwd=RACER.parent,
        )
        for n in range(PROCESSES)
    ]
    for racer in racers:
        assert await asyncio.wait_for(racer.wait(), timeout=120) == 0

    starts: dict[int, tuple[str, str, float]] = {}
    ends: dict[int, float] = {}
    for line in log.read_text().splitlines():
        kind, token, holder, job, at = line.split()
        if kind == "start":
            starts[int(token)] = (holder, job, float(at))
        else:
            ends[int(token)] = float(at)
    assert starts.keys() == ends.keys()
    assert len(starts) >= PROCESSES  # every racer won at least about once on average
    assert len({holder for holder, _, _ in starts.values()}) >= 2
    by_start = sorted(starts, key=lambda token: starts[token][2])
    assert by_start == sorted(by_start), "tokens must grow in the order leases were taken"
    for before, after in itertools.pairwise(by_start):
        assert starts[after][2] >= ends[before], f"leases {before} and {after} overlapped"

    coordinator = durable_backend.open()
    journaled = 0
    for job_id in jobs:
        lease = await coordinator.acquire(JobRef(job_id, company, "v3"), "checker")
        assert isinstance(lease, Lease)
        journaled += len((await coordinator.load(lease)).in_doubt)
        await coordinator.release(lease)
    assert journaled == len(starts)
