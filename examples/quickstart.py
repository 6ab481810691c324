"""Quickstart: connect, find the pending export jobs, and look at what they hold.

    python examples/quickstart.py                      # against an embedded fake server
    python examples/quickstart.py --base-url http://127.0.0.1:8080   # pleo-export fake-server
    PLEO_API_KEY=... python examples/quickstart.py --live             # Pleo itself (read-only)

It only reads: nothing here changes a job.
"""

from __future__ import annotations

import argparse
import asyncio
from typing import TYPE_CHECKING

from _support import add_target_options, connect

from pleo_export import PleoExport

if TYPE_CHECKING:
    from pleo_export.testing import FakePleo


def seed(fake: FakePleo) -> None:
    """Give the embedded fake two companies with one pending job each."""
    fake.add_job(items=30)
    fake.add_job(items=12, vendor_based_bookkeeping=True)


async def tour(pleo: PleoExport) -> None:
    """List pending jobs, then show the first items of the oldest one, both layers."""
    jobs = [job async for job in pleo.jobs.list(statuses=["pending"])]
    print(f"{len(jobs)} pending export job(s)")
    for job in jobs:
        print(f"  {job.id}  company {job.company_id}  {job.number_of_items} items")
    if not jobs:
        return

    job = await pleo.jobs.get(jobs[0].id)
    print(f"\njob {job.id} is {job.status}; it expires {job.expires_in} s after its last update")

    # The control layer: one status per item.
    async for item in pleo.job_items.list(job.id, max_items=3):
        print(f"  item {item.accounting_entry_id}: {item.status}")

    # The data layer: what to book. Amounts are integers in minor units.
    async for entry in pleo.export_items.list(job.id, max_items=3):
        amount = entry.amount.in_wallet_currency
        print(f"  {entry.date:%Y-%m-%d}  {entry.type_:<16} {amount.value:>9} {amount.currency}")


async def main() -> None:
    """Parse the options and run the tour against the chosen server."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_target_options(parser)
    async with connect(parser.parse_args(), seed) as target:
        print(f"connected to {target.base_url}")
        await tour(target.pleo)


if __name__ == "__main__":
    asyncio.run(main())
