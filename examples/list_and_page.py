"""Paging: items one by one, whole pages, a checkpoint to resume from, and paging backward.

    python examples/list_and_page.py                  # against an embedded fake server
    python examples/list_and_page.py --base-url URL --job JOB_ID

Pleo's lists are cursor-paginated. ``async for`` follows the cursors for you and fetches the
next page while you work on the current one; ``.pages()`` hands out whole pages with the cursors
around them, so a long read can store ``end_cursor`` and carry on later with ``after=``.
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
    """Give the embedded fake one pending job of 1,234 items."""
    fake.add_job(items=1234)


async def walk(pleo: PleoExport, job_id: str | None) -> None:
    """Show four ways of reading one job's items."""
    if job_id is None:
        first = await pleo.jobs.list(statuses=["pending", "in_progress"]).first_page()
        if not first.items:
            print("no running export job to read")
            return
        job_id = str(first.items[0].id)
    job = await pleo.jobs.get(job_id)
    print(f"job {job.id}: {job.number_of_items} items")

    # 1. Item by item; the pager fetches page n+1 while you handle page n.
    count = 0
    async for _item in pleo.job_items.list(job.id, limit=200):
        count += 1
    print(f"1. async for: {count} job items")

    # 2. Page by page, keeping the cursor after each page as a checkpoint.
    checkpoint: str | None = None
    pages = 0
    async for page in pleo.export_items.list(job.id, limit=250).pages():
        pages += 1
        checkpoint = page.end_cursor
        if pages == 2:
            break  # pretend the process stops here; the checkpoint survives (in a file, a DB…)
    print(f"2. read {pages} pages of export items; checkpoint {checkpoint}")

    # 3. Resume after the checkpoint: the next item is the 501st.
    rest = [item async for item in pleo.export_items.list(job.id, limit=250, after=checkpoint)]
    print(f"3. resumed after the checkpoint: {len(rest)} more export items")

    # 4. Only as much as you need: the first page, or at most n items.
    head = await pleo.job_items.list(job.id, limit=50).first_page()
    few = [item async for item in pleo.job_items.list(job.id, max_items=5)]
    print(f"4. first page: {len(head)} items (of {head.total}); max_items=5 gave {len(few)}")

    # 5. Backward from the end of a page: ``before=`` pages towards the start.
    middle = await pleo.job_items.list(job.id, limit=100, offset=300).first_page()
    back = [
        p async for p in pleo.job_items.list(job.id, limit=100, before=middle.start_cursor).pages()
    ]
    print(
        f"5. paged backward from item 300: {sum(len(p) for p in back)} items in {len(back)} pages"
    )


async def main() -> None:
    """Parse the options and walk the job's items."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_target_options(parser)
    parser.add_argument("--job", metavar="ID", help="the job to read (default: the oldest running)")
    args = parser.parse_args()
    async with connect(args, seed) as target:
        await walk(target.pleo, args.job)


if __name__ == "__main__":
    asyncio.run(main())
