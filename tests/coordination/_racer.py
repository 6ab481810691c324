"""One racing worker process: ``python _racer.py SPEC LOG HOLDER ROUNDS COMPANY JOB...``.

Each round it tries to lease one of the jobs (all of one company); when it gets one it logs
``start``, journals one intent under the lease, holds it a moment, logs ``end`` and releases.
Log lines are ``kind token holder job time`` appended with one ``write`` each, so the test can
check across processes that no two leases of the company overlapped and tokens only grew.
"""

from __future__ import annotations

import asyncio
import os
import random
import sys
import time
import uuid

from _backends import open_spec

from pleo_export._outcome import JobRef
from pleo_export.coordination import Lease


async def _race(spec: str, log: int, holder: str, rounds: int, jobs: list[JobRef]) -> None:
    coordinator = open_spec(spec, lease_seconds=30.0)
    try:
        for _ in range(rounds):
            job = random.choice(jobs)
            lease = await coordinator.acquire(job, holder)
            if not isinstance(lease, Lease):
                await asyncio.sleep(random.uniform(0.001, 0.005))
                continue
            _line(log, "start", lease, job)
            await coordinator.record_intents(lease, [uuid.uuid4()])
            await asyncio.sleep(random.uniform(0.0, 0.005))
            _line(log, "end", lease, job)
            await coordinator.release(lease)
    finally:
        await coordinator.aclose()


def _line(log: int, kind: str, lease: Lease, job: JobRef) -> None:
    os.write(log, f"{kind} {lease.token} {lease.holder} {job.job_id} {time.time():.6f}\n".encode())


def main() -> None:
    """Parse the command line and race."""
    spec, path, holder, rounds, company, *job_ids = sys.argv[1:]
    jobs = [JobRef(uuid.UUID(j), uuid.UUID(company), "v3") for j in job_ids]
    log = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT)
    try:
        asyncio.run(_race(spec, log, holder, int(rounds), jobs))
    finally:
        os.close(log)


if __name__ == "__main__":
    main()
