"""Receipts: download every file of a running job's export items into a content-addressed folder.

    python examples/receipts.py                     # against an embedded fake server
    python examples/receipts.py --base-url URL --job JOB_ID --output receipts/

Each export item lists its files (``url``, ``type``, ``size``); the URLs are pre-signed and
expire 24 h after the item was fetched. ``pleo.files`` downloads them without sending Pleo's
credentials, under a 30 MiB cap, with a SHA-256 of each, retrying failures and refreshing an
expired URL from the item once. ``store`` names each file by its hash, so a file downloaded
twice (a retry, a rerun, the same receipt on two items) is kept once. With the embedded fake,
the first file's URL is made to expire once, to show the refresh.
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from collections import Counter
from typing import TYPE_CHECKING

from _support import add_target_options, connect

from pleo_export import DownloadedFile, FileDownloadError, ItemFile, PleoExport

if TYPE_CHECKING:
    from pleo_export.testing import FakePleo


def seed(fake: FakePleo) -> None:
    """Give the embedded fake one pending job of 150 items, and one expired URL."""
    fake.add_job(items=150)
    fake.faults.add("expired_url", times=1)


async def download(pleo: PleoExport, job_id: str | None, folder: str) -> int:
    """Store every file of the job's items in ``folder``; return how many failed."""
    if job_id is None:
        first = await pleo.jobs.list(statuses=["pending", "in_progress"]).first_page()
        if not first.items:
            print("no running export job to read")
            return 0
        job_id = str(first.items[0].id)
    files: list[ItemFile] = []
    async for item in pleo.export_items.list(job_id):
        files += pleo.files.of(item, job_id=job_id)
    print(f"job {job_id}: {len(files)} files, {sum(f.size for f in files):,} bytes declared")

    began = time.perf_counter()
    # All at once: the client keeps 4 downloads in flight (file_concurrency=).
    results = await asyncio.gather(
        *(pleo.files.store(file, folder) for file in files), return_exceptions=True
    )
    elapsed = time.perf_counter() - began
    stored = [r for r in results if isinstance(r, DownloadedFile)]
    failed = [r for r in results if isinstance(r, FileDownloadError)]
    for error in failed:
        print(f"  failed ({error.failure_type}): {error}")
    kinds = Counter(f.media_type for f in stored)
    size = sum(f.size for f in stored)
    print(
        f"stored {len(stored)} files ({len({f.sha256 for f in stored})} distinct, "
        f"{', '.join(f'{n} {kind}' for kind, n in kinds.most_common())}) in {folder}"
    )
    print(f"{size / 1e6:.1f} MB in {elapsed:.2f} s; {len(failed)} failed")
    return len(failed)


async def main() -> int:
    """Parse the options and download the job's files."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_target_options(parser)
    parser.add_argument("--job", metavar="ID", help="the job (default: the oldest running)")
    parser.add_argument("--output", metavar="DIR", help="the folder (default: a temporary one)")
    args = parser.parse_args()
    folder = args.output or tempfile.mkdtemp(prefix="pleo-receipts-")
    async with connect(args, seed) as target:
        failed = await download(target.pleo, args.job, folder)
        if target.fake is not None:
            expired = target.fake.faults.counts.get("expired_url", 0)
            print(f"the fake refused {expired} URL(s) as expired; each was refreshed")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(asyncio.run(main()))
