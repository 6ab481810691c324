"""A notebook cell on the sync client, inside a running event loop (Jupyter, IPython).

    python examples/sync_notebook.py                    # against an embedded fake server

A Jupyter kernel runs its cells inside an event loop, where ``asyncio.run(...)`` raises
"cannot be called from a running event loop". The sync client runs its own loop in a thread,
so plain calls work in a cell as they are. ``asyncio.run(kernel())`` below stands in for the
kernel; the body of ``cell`` is what you would type.
"""

from __future__ import annotations

import argparse
import asyncio
from collections import Counter

from _support import add_target_options, connect_sync

from pleo_export.sync import PleoExport


def cell(pleo: PleoExport) -> None:
    """One cell: look at the pending jobs and what the oldest holds, no ``await`` anywhere."""
    jobs = list(pleo.v3.jobs.list(statuses=["pending"]))
    print(f"inside a running event loop: {len(jobs)} pending job(s)")
    if not jobs:
        return
    job = jobs[0]
    kinds = Counter(str(item.type_) for item in pleo.v3.export_items.list(job.id))
    for kind, count in kinds.most_common():
        print(f"  {kind:<20} {count:>4}")


async def kernel(pleo: PleoExport) -> None:
    """Stands in for the notebook's kernel: a running loop that executes the cell."""
    asyncio.get_running_loop()  # there is one, as in Jupyter
    cell(pleo)


def main() -> None:
    """Parse the options and run the cell inside a running event loop."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_target_options(parser)

    def seed(fake: object) -> None:
        fake.add_job(items=50)  # type: ignore[attr-defined]
        fake.add_job(items=20)  # type: ignore[attr-defined]

    with connect_sync(parser.parse_args(), seed) as target:
        asyncio.run(kernel(target.pleo))


if __name__ == "__main__":
    main()
