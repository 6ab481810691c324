"""A worker to be killed: ``python _crasher.py SPEC JOB COMPANY LEASE_SECONDS``.

It leases the job, then journals intents in batches of 50 (batch ``k`` holds the entries
``uuid.UUID(int=k * 1000 + i)``) as fast as it can, printing ``k`` after each committed batch,
until it is killed.
"""

from __future__ import annotations

import asyncio
import sys
import uuid

from _backends import open_spec

from pleo_export._outcome import JobRef
from pleo_export.coordination import Lease

BATCH = 50


async def _write_until_killed(spec: str, job: JobRef, lease_seconds: float) -> None:
    coordinator = open_spec(spec, lease_seconds)
    lease = await coordinator.acquire(job, "crasher")
    assert isinstance(lease, Lease)
    batch = 0
    while True:
        await coordinator.record_intents(
            lease, [uuid.UUID(int=batch * 1000 + i) for i in range(BATCH)]
        )
        print(batch, flush=True)
        batch += 1
        if batch % 5 == 0:
            await coordinator.renew(lease)


def main() -> None:
    """Parse the command line and write until killed."""
    spec, job_id, company_id, lease_seconds = sys.argv[1:]
    job = JobRef(uuid.UUID(job_id), uuid.UUID(company_id), "v3")
    asyncio.run(_write_until_killed(spec, job, float(lease_seconds)))


if __name__ == "__main__":
    main()
