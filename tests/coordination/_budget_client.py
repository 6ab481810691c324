"""One process of a fleet on one credential: ``python _budget_client.py SPEC URL JOB RPM SECONDS``.

It opens a coordinator from ``SPEC`` (see ``_backends.open_spec``), makes a client with that
request budget shared through it, and reads the job from the fake with four tasks at once for
``SECONDS``, as fast as the budget lets it; it prints how many reads it made.
"""

from __future__ import annotations

import asyncio
import sys
import time

from _backends import open_spec

from pleo_export import PleoExport
from pleo_export.testing import DEFAULT_API_KEY

TASKS = 4


async def _run(spec: str, url: str, job: str, rpm: float, seconds: float) -> int:
    coordinator = open_spec(spec, lease_seconds=30.0)
    done = 0
    deadline = time.monotonic() + seconds
    async with PleoExport(
        api_key=DEFAULT_API_KEY, base_url=url, requests_per_minute=rpm, shared_budget=coordinator
    ) as pleo:

        async def reader() -> None:
            nonlocal done
            while time.monotonic() < deadline:
                await pleo.jobs.get(job)
                done += 1

        await asyncio.gather(*(reader() for _ in range(TASKS)))
    await coordinator.aclose()
    return done


def main() -> None:
    """Parse the command line, read for a while, print the count."""
    spec, url, job, rpm, seconds = sys.argv[1:]
    print(asyncio.run(_run(spec, url, job, float(rpm), float(seconds))))


if __name__ == "__main__":
    main()
