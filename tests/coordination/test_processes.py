"""Real processes on SQLite and PostgreSQL: racing for one company's jobs, and killed mid-write."""

from __future__ import annotations

import asyncio
import itertools
import random
import sys
import uuid
from pathlib import Path

from _backends import Backend

from pleo_export._outcome import JobRef
from pleo_export.coordination import Lease, LeaseHeld

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


CRASHER = Path(__file__).with_name("_crasher.py")


async def test_a_killed_writer_leaves_whole_batches_and_its_job_free(
    durable_backend: Backend,
) -> None:
    """A process SIGKILLed while journaling leaves every batch whole or absent, at least the
    batches it saw committed, and its job free once the lease lapses; fails if a crash can
    tear a batch, lose a commit or keep a job leased for ever."""
    lease_seconds = 1.0
    job = JobRef(uuid.uuid4(), uuid.uuid4(), "v3")
    crasher = await asyncio.create_subprocess_exec(
        sys.executable,
        str(CRASHER),
        durable_backend.spec,
        str(job.job_id),
        str(job.company_id),
        str(lease_seconds),
        cwd=CRASHER.parent,
        stdout=asyncio.subprocess.PIPE,
    )
    assert crasher.stdout is not None
    committed = -1
    while committed < 3:
        committed = int(await asyncio.wait_for(crasher.stdout.readline(), timeout=60))
    await asyncio.sleep(random.uniform(0, 0.05))
    crasher.kill()
    await crasher.wait()
    rest = (await crasher.stdout.read()).split()
    committed = max([committed, *map(int, rest)])

    coordinator = durable_backend.open(lease_seconds=lease_seconds)
    held = await coordinator.acquire(job, "successor")
    if isinstance(held, LeaseHeld):
        await asyncio.sleep(held.expires_in + 0.1)
        held = await coordinator.acquire(job, "successor")
    assert isinstance(held, Lease)
    in_doubt = (await coordinator.load(held)).in_doubt
    batches = {entry.int // 1000 for entry in in_doubt}
    assert batches == set(range(len(batches)))
    assert len(batches) > committed
    assert len(in_doubt) == len(batches) * 50
