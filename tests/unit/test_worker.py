"""``ExportWorker`` over an in-memory ``ExportPort``: the handler gets each work item, its
answers become outcomes, and one bad item does not stop the job."""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from memory_port import Entry, Job, MemoryPort

from pleo_export import Booked, ExportWorker, Rejected, WorkItem
from pleo_export._outcome import OutcomeStatus
from pleo_export._worker_state import idle_seconds as _idle_seconds

WAIT = 5.0


def _worker(port: MemoryPort, handler: Any, **options: Any) -> ExportWorker[Any]:
    # A bare ExportPort stands in for pleo.v3; the worker keeps its own in-memory journal.
    source: Any = port
    return ExportWorker(source, handler, resume_idle=0, **options)


async def test_the_handler_gets_export_items_and_its_answers_are_reported() -> None:
    """Each export item reaches the handler once; ``Booked``/``Rejected`` become successful and
    failed outcomes and the job ends ``completed_with_errors``. A lost or doubled item fails
    this."""
    port = MemoryPort(items=4)
    seen: list[Entry] = []

    def handler(work: WorkItem[Entry, Entry]) -> Booked | Rejected:
        seen.append(work.export_item)
        if len(seen) == 1:
            return Rejected("no vendor", reason_type="vendor_unknown")
        return Booked(external_id=f"JE-{len(seen)}")

    worker = _worker(port, handler)
    await asyncio.wait_for(worker.run(until_idle=True), WAIT)
    assert sorted(e.accounting_entry_id for e in seen) == sorted(
        i.accounting_entry_id for i in port.items
    )
    assert [o.status for o in port.reported].count(OutcomeStatus.FAILED) == 1
    assert port.events == ["started", "completed_with_errors"]
    assert (worker.stats.items_booked, worker.stats.items_failed) == (3, 1)


async def test_an_exception_is_retried_in_doubt() -> None:
    """An exception is transient: the item is offered again with ``in_doubt`` (the ERP may have
    booked before failing) and booked then; failing the item at once, or offering it again
    not in doubt, fails this."""
    port = MemoryPort(items=2)
    calls: list[tuple[object, bool]] = []

    async def handler(work: WorkItem[Entry, Entry]) -> Booked:
        calls.append((work.accounting_entry_id, work.in_doubt))
        if len(calls) == 1:
            raise ConnectionError("ledger down")
        return Booked()

    worker = _worker(port, handler)
    await asyncio.wait_for(worker.run(until_idle=True), WAIT)
    first = calls[0][0]
    assert [doubt for entry, doubt in calls if entry == first] == [False, True]
    assert {o.status for o in port.reported} == {OutcomeStatus.SUCCESSFUL}
    assert port.events == ["started", "completed"]
    assert worker.stats.items_retried == 1


async def test_an_item_that_always_raises_fails_alone_with_a_short_reason() -> None:
    """One item's handler raises on every attempt while the others book: it fails
    ``unexpected_failure`` after ``max_attempts`` with the type and first line only (no
    traceback, no second line); the job completes with errors. A reason with the second line,
    or a paused job, fails this."""
    port = MemoryPort(items=6)
    bad = port.items[0].accounting_entry_id
    attempts = 0

    async def handler(work: WorkItem[Entry, Entry]) -> Booked:
        nonlocal attempts
        if work.accounting_entry_id == bad:
            attempts += 1
            raise LookupError("vat code\nFile /srv/app.py, line 3, thread 1398829958")
        return Booked()

    worker = _worker(port, handler, max_attempts=3)
    await asyncio.wait_for(worker.run(until_idle=True), WAIT)
    failed = [o for o in port.reported if o.status is OutcomeStatus.FAILED]
    assert [(o.accounting_entry_id, o.failure_reason_type) for o in failed] == [
        (bad, "unexpected_failure")
    ]
    assert failed[0].failure_reason == "LookupError: vat code"
    assert attempts == 3
    assert port.events == ["started", "completed_with_errors"]


NOW = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("last_updated_at", "started_at", "expected"),
    [
        (NOW - timedelta(seconds=30), NOW - timedelta(seconds=90), 30.0),
        (None, NOW - timedelta(seconds=90), 90.0),
        ("not a time", None, 3600.0),
        ((NOW - timedelta(seconds=5)).replace(tzinfo=None), None, 5.0),
    ],
)
def test_idle_seconds_reads_the_newest_readable_stamp(
    last_updated_at: object, started_at: object, expected: float
) -> None:
    """Idle time counts from ``lastUpdatedAt``, else ``startedAt``, else ``createdAt``; a stamp
    that is not a datetime is skipped and a naive one read as UTC."""
    job = Job(
        MemoryPort(items=0).job.id,
        "in_progress",
        created_at=NOW - timedelta(hours=1),
        last_updated_at=last_updated_at,
        started_at=started_at,
    )
    assert _idle_seconds(job, NOW) == expected


async def test_a_worker_without_a_durable_coordinator_warns_once(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Without a durable coordinator the worker says once, at start, what the in-memory journal
    cannot protect against; no warning, or one per job, fails this."""
    caplog.set_level(logging.WARNING, logger="pleo_export")
    port = MemoryPort(items=3)
    await asyncio.wait_for(_worker(port, lambda work: Booked()).run(until_idle=True), WAIT)
    warned = [r for r in caplog.records if "no durable coordinator" in r.getMessage()]
    assert len(warned) == 1
    assert warned[0].levelno == logging.WARNING


async def test_stop_gives_a_hung_call_the_grace_then_cancels_it() -> None:
    """A handler call that never returns: ``stop()`` still ends ``run()`` once the grace period
    (0.05 s) is over, the call is cancelled and the job left paused. A stop that waits for the
    call to end first (as it did) times this out."""
    port = MemoryPort(items=3)
    entered = asyncio.Event()
    cancelled: list[bool] = []

    async def hang(work: WorkItem[Entry, Entry]) -> Booked:
        entered.set()
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            cancelled.append(True)
            raise
        return Booked()

    worker = _worker(port, hang, grace=0.05)
    task = asyncio.create_task(worker.run())
    await asyncio.wait_for(entered.wait(), WAIT)
    worker.stop()
    await asyncio.wait_for(task, WAIT)
    assert cancelled == [True]
    assert port.events == ["started"]
    assert worker.stats.jobs_paused == 1
