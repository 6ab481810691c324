"""A worker process of the chaos test: ``python _chaos_worker.py URL SPEC LOG``.

It runs an ``ExportWorker`` against the fake at ``URL`` with the coordinator ``SPEC``
(``postgres:<dsn>|<schema>`` or ``sqlite:<path>``) until it is killed. Its handler appends a
``start`` line before and an ``end`` line after each call to ``LOG`` (one ``O_APPEND`` write
each, so lines of several processes never interleave): ``kind entry in_doubt token pid status``.
With ``CHAOS_WORKER_BATCH=<size>`` the handler is a batch handler of that size: a ``start``
line for every item of the batch before the call, an ``end`` line for each after it.
"""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import Sequence
from typing import Any

from pleo_export import BatchAnswer, Booked, ExportWorker, PleoExport, Rejected, RetryPolicy
from pleo_export.coordination import Coordinator, SQLiteCoordinator
from pleo_export.testing import DEFAULT_API_KEY

#: A killed worker's leases lapse after this long; the survivors take its jobs over then.
LEASE_SECONDS = 3.0
RETRY = RetryPolicy(
    max_retries=8, wait_initial=0.001, wait_max=0.01, wait_jitter=0.001, retry_after_max=0.01
)


def expected_status(entry: str) -> str:
    """Each entry's one right outcome: every ninth is refused, the rest booked."""
    return "failed" if int(entry[-2:], 16) % 9 == 0 else "successful"


def open_coordinator(spec: str) -> Coordinator:
    """The coordinator a spec names."""
    kind, _, where = spec.partition(":")
    if kind == "sqlite":
        return SQLiteCoordinator(where, lease_seconds=LEASE_SECONDS)
    from pleo_export.coordination import PostgresCoordinator

    dsn, _, schema = where.rpartition("|")
    return PostgresCoordinator(dsn, lease_seconds=LEASE_SECONDS, schema=schema)


async def _serve(url: str, spec: str, log_path: str) -> None:
    log = os.open(log_path, os.O_WRONLY | os.O_APPEND | os.O_CREAT)
    pid = os.getpid()

    def note(kind: str, work: Any, status: str) -> None:
        line = f"{kind} {work.accounting_entry_id} {int(work.in_doubt)} {work.fencing_token}"
        os.write(log, f"{line} {pid} {status}\n".encode())

    def answer(work: Any) -> Booked | Rejected:
        status = expected_status(str(work.accounting_entry_id))
        note("end", work, status)
        if status == "failed":
            return Rejected("The ERP refused it.", reason_type="validation_failure")
        return Booked(external_id=f"GL-{str(work.accounting_entry_id)[-8:]}")

    async def book(work: Any) -> Booked | Rejected:
        note("start", work, "-")
        await asyncio.sleep(0.002)  # the ERP's round trip
        return answer(work)

    async def book_batch(batch: Sequence[Any]) -> BatchAnswer:
        for work in batch:
            note("start", work, "-")
        await asyncio.sleep(0.005)  # the ERP's bulk endpoint
        if batch[0].accounting_entry_id.int % 2:  # both answer forms: a sequence in order…
            return [answer(work) for work in batch]
        return {work.accounting_entry_id: answer(work) for work in batch}  # …or by entry id

    coordinator = open_coordinator(spec)
    batch_size = int(os.environ.get("CHAOS_WORKER_BATCH", "0"))
    async with PleoExport(api_key=DEFAULT_API_KEY, base_url=url, retry=RETRY, timeout=10.0) as pleo:
        options: dict[str, Any] = {
            "poll_interval": 0.05,
            "max_jobs": 4,
            "coordinator": coordinator,
            "concurrency": 8,
        }
        if batch_size:
            worker = ExportWorker(pleo, book_batch, batch_size=batch_size, **options)
        else:
            worker = ExportWorker(pleo, book, **options)
        await worker.run()


def _serve_sync(url: str, spec: str, log_path: str) -> None:
    """The same worker through ``pleo_export.sync``: a plain handler (or, with
    ``CHAOS_WORKER_BATCH``, a plain batch handler), run in its thread pool."""
    import time

    from pleo_export import sync

    log = os.open(log_path, os.O_WRONLY | os.O_APPEND | os.O_CREAT)
    pid = os.getpid()

    def note(kind: str, work: Any, status: str) -> None:
        line = f"{work.accounting_entry_id} {int(work.in_doubt)} {work.fencing_token} {pid}"
        os.write(log, f"{kind} {line} {status}\n".encode())

    def answer(work: Any) -> Booked | Rejected:
        status = expected_status(str(work.accounting_entry_id))
        note("end", work, status)
        if status == "failed":
            return Rejected("The ERP refused it.", reason_type="validation_failure")
        return Booked(external_id=f"GL-{str(work.accounting_entry_id)[-8:]}")

    def book(work: Any) -> Booked | Rejected:
        note("start", work, "-")
        time.sleep(0.002)  # the ERP's round trip, blocking
        return answer(work)

    def book_batch(batch: Sequence[Any]) -> BatchAnswer:
        for work in batch:
            note("start", work, "-")
        time.sleep(0.005)  # the ERP's bulk endpoint, blocking
        if batch[0].accounting_entry_id.int % 2:  # both answer forms: a sequence in order…
            return [answer(work) for work in batch]
        return {work.accounting_entry_id: answer(work) for work in batch}  # …or by entry id

    coordinator = open_coordinator(spec)
    batch_size = int(os.environ.get("CHAOS_WORKER_BATCH", "0"))
    with sync.PleoExport(api_key=DEFAULT_API_KEY, base_url=url, retry=RETRY, timeout=10.0) as pleo:
        options: dict[str, Any] = {"poll_interval": 0.05, "max_jobs": 4, "coordinator": coordinator}
        if batch_size:
            options["concurrency"] = 8
            sync.ExportWorker(pleo, book_batch, batch_size=batch_size, **options).run()
        else:
            sync.ExportWorker(pleo, book, **options).run()


def main() -> None:
    """Run until killed; with ``CHAOS_WORKER_SYNC=1`` in the environment, the sync worker."""
    url, spec, log_path = sys.argv[1:]
    if os.environ.get("CHAOS_WORKER_SYNC") == "1":
        _serve_sync(url, spec, log_path)
    else:
        asyncio.run(_serve(url, spec, log_path))


if __name__ == "__main__":
    main()
