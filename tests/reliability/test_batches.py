"""Batch handlers at the edges of a run: ``stop()`` during a batch, and a lease lost mid-batch.

* ``stop()`` while a batch is in flight lets it finish within the grace period: its outcomes
  are reported, no batch starts after the stop, and the next run books the rest without
  offering those items again. A batch that outlasts the grace period is cancelled, and its
  items come back in doubt.
* A batch handler that stalls the loop past the lease while another holder takes the job over:
  no batch starts after it (the run proves its lease before handing items out).
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from pleo_export import Booked, ExportWorker, LeaseLostError
from pleo_export.coordination import JobRef, SQLiteCoordinator
from pleo_export.testing import FakePleo

from .conftest import client_on
from .test_lease_and_journal_outage import LEASE, _stall, _take_over

pytestmark = pytest.mark.timeout(60)

ITEMS = 30
BATCH = 10


def _entries(batch: Sequence[Any]) -> list[uuid.UUID]:
    return [work.accounting_entry_id for work in batch]


async def test_stop_lets_a_batch_in_flight_finish_and_starts_no_other(tmp_path: Path) -> None:
    """``stop()`` lands while the first batch is in the ERP: that batch finishes (grace 5 s),
    its ten outcomes reach Pleo, the job is left in_progress, and no second batch starts. The
    next worker books the other twenty, none of the first ten again. A stop that cancels the
    batch at once, or starts another, fails this."""
    fake = FakePleo(seed=71)
    job = fake.add_job(items=ITEMS)
    coordinator = SQLiteCoordinator(tmp_path / "journal.sqlite")
    calls: list[list[uuid.UUID]] = []
    in_erp = asyncio.Event()

    async def book(batch: Sequence[Any]) -> list[Booked]:
        calls.append(_entries(batch))
        in_erp.set()
        await asyncio.sleep(0.2)  # the bulk endpoint takes a while
        return [Booked(external_id="GL-1") for _ in batch]

    async with client_on(fake) as pleo:
        worker = ExportWorker(
            pleo, book, batch_size=BATCH, coordinator=coordinator, grace=5.0, poll_interval=0.01
        )
        task = asyncio.create_task(worker.run())
        await asyncio.wait_for(in_erp.wait(), 10)
        worker.stop()
        await asyncio.wait_for(task, 10)
        assert len(calls) == 1
        assert fake.job(job)["status"] == "in_progress"
        assert fake.item_status_counts(job) == {"successful": BATCH, "pending": ITEMS - BATCH}
        assert worker.stats.jobs_paused == 1
        later: list[tuple[uuid.UUID, bool]] = []

        def book_rest(batch: Sequence[Any]) -> list[Booked]:
            later.extend((work.accounting_entry_id, work.in_doubt) for work in batch)
            return [Booked(external_id="GL-2") for _ in batch]

        again = ExportWorker(pleo, book_rest, batch_size=BATCH, coordinator=coordinator)
        await asyncio.wait_for(again.run(until_idle=True), 10)
    await coordinator.aclose()
    assert fake.job(job)["status"] == "completed"
    assert not {entry for entry, _ in later} & set(calls[0])
    assert len(later) == ITEMS - BATCH


async def test_a_batch_that_outlasts_the_grace_comes_back_in_doubt(tmp_path: Path) -> None:
    """The first batch never answers; ``stop()`` waits the grace (0.05 s), then cancels it.
    Nothing of it reaches Pleo, and the next run offers each of its items in doubt. A batch
    left running after the stop, or its items offered again as new, fails this."""
    fake = FakePleo(seed=72)
    job = fake.add_job(items=ITEMS)
    coordinator = SQLiteCoordinator(tmp_path / "journal.sqlite")
    first: list[uuid.UUID] = []
    in_erp = asyncio.Event()
    cancelled = asyncio.Event()

    async def hang(batch: Sequence[Any]) -> list[Booked]:
        first.extend(_entries(batch))
        in_erp.set()
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            cancelled.set()
            raise
        return []

    async with client_on(fake) as pleo:
        worker = ExportWorker(pleo, hang, batch_size=BATCH, coordinator=coordinator, grace=0.05)
        task = asyncio.create_task(worker.run())
        await asyncio.wait_for(in_erp.wait(), 10)
        worker.stop()
        await asyncio.wait_for(task, 10)
        assert cancelled.is_set()
        assert fake.job(job)["status"] == "in_progress"
        assert fake.item_status_counts(job) == {"pending": ITEMS}
        doubts: dict[uuid.UUID, bool] = {}

        def book(batch: Sequence[Any]) -> dict[uuid.UUID, Booked]:
            doubts.update((work.accounting_entry_id, work.in_doubt) for work in batch)
            return {work.accounting_entry_id: Booked(external_id="GL-3") for work in batch}

        again = ExportWorker(pleo, book, batch_size=BATCH, coordinator=coordinator)
        await asyncio.wait_for(again.run(until_idle=True), 10)
    await coordinator.aclose()
    assert fake.job(job)["status"] == "completed"
    assert len(first) == BATCH
    assert all(doubts[entry] for entry in first)
    assert fake.item_status_counts(job) == {"successful": ITEMS}


async def test_a_lease_lost_mid_batch_starts_no_batch_after_it(tmp_path: Path) -> None:
    """Two batches in flight; the first stalls the loop 1.4 leases long and another holder
    takes the job over meanwhile. The run raises ``LeaseLostError`` with no third batch
    started, and leaves the job in_progress to the new holder. A dispatcher that starts the
    next batch without proving its lease (the lost flag is not set yet) fails this."""
    fake = FakePleo(seed=73)
    job_id = fake.add_job(items=100)
    path = tmp_path / "journal.sqlite"
    coordinator = SQLiteCoordinator(path, lease_seconds=LEASE)
    calls: list[list[uuid.UUID]] = []

    async with client_on(fake) as pleo:
        job = await pleo.jobs.get(job_id)

        def book(batch: Sequence[Any]) -> list[Booked]:
            calls.append(_entries(batch))
            if len(calls) == 1:
                _stall(LEASE * 1.4)  # a sync bulk call that blocks the loop
                _take_over(path, JobRef(job.id, job.company_id, "v3"))
            return [Booked(external_id="GL-4") for _ in batch]

        with pytest.raises(LeaseLostError):
            async with pleo.export_run(job, coordinator=coordinator) as run:
                await run.process(book, batch_size=BATCH, concurrency=2)
    await coordinator.aclose()
    assert len(calls) == 2  # both handed out before the stall; none after it
    assert fake.job(job_id)["status"] == "in_progress"  # the new holder's now
