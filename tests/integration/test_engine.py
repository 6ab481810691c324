"""The export engine against the fake: concurrent booking, ERP outages, the breaker.

Each test drives ``ExportWorker`` (or ``run.process``) over the in-process fake with a handler
that plays the ERP: booking takes a few milliseconds, and it can be down for a while, flap, or
stay down. What is judged is the fake's state and the handler's calls: every item booked once,
a repeat only in doubt, no item failed for an outage, and the job-level reason when it lasts.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections import Counter
from typing import Any

import httpx
import pytest

from pleo_export import Booked, ExportWorker, JobAbortedError, PleoExport, Retry
from pleo_export.testing import DEFAULT_API_KEY, FakePleo

WAIT = 20.0


class Erp:
    """A fake ERP: books in ``delay`` s, down while ``down()`` says so (raising ``error``, or
    answering ``Retry`` with ``retry=True``). Records every call and the most in flight."""

    def __init__(self, delay: float = 0.002, *, retry: bool = False) -> None:
        self.delay = delay
        self.retry = retry
        self.calls: list[tuple[uuid.UUID, bool]] = []
        self.booked: Counter[uuid.UUID] = Counter()
        self.in_flight: set[uuid.UUID] = set()
        self.most = 0
        self.overlaps = 0
        self.began = time.monotonic()
        self.down = lambda: False

    async def book(self, work: Any) -> Booked | Retry:
        entry = work.accounting_entry_id
        self.calls.append((entry, work.in_doubt))
        self.overlaps += entry in self.in_flight
        self.in_flight.add(entry)
        self.most = max(self.most, len(self.in_flight))
        try:
            await asyncio.sleep(self.delay)
            if self.down():
                if self.retry:
                    return Retry(after=0.01, reason="ERP busy")
                raise ConnectionError("ERP unreachable")
            self.booked[entry] += 1
            return Booked(external_id=f"GL-{str(entry)[-6:]}")
        finally:
            self.in_flight.discard(entry)

    def down_for(self, seconds: float) -> None:
        began = time.monotonic()
        self.down = lambda: time.monotonic() - began < seconds

    def repeats_not_in_doubt(self) -> int:
        seen: set[uuid.UUID] = set()
        bad = 0
        for entry, in_doubt in self.calls:
            bad += entry in seen and not in_doubt
            seen.add(entry)
        return bad


async def test_concurrency_keeps_n_calls_in_flight_and_books_each_item_once(
    fake_pleo: FakePleo, pleo: PleoExport
) -> None:
    """At concurrency 8 the worker keeps 8 calls in flight (1 before), books each of 300 items
    once with no overlapping calls for one entry, and completes the job. A worker that awaits
    each call before the next (most in flight 1), or hands an entry out twice, fails this."""
    job_id = fake_pleo.add_job(items=300)
    erp = Erp()
    worker = ExportWorker(pleo, erp.book, concurrency=8)
    await asyncio.wait_for(worker.run(until_idle=True), WAIT)
    assert erp.most == 8
    assert erp.overlaps == 0
    assert set(erp.booked.values()) == {1}
    assert len(erp.booked) == 300
    assert fake_pleo.job(job_id)["status"] == "completed"
    # outcomes out of order still go in full batches of 100
    assert fake_pleo.request_counts["updateExportJobItemsV3"] == 3


class _HeldPage(httpx.AsyncBaseTransport):
    """The fake, except that the third page of export data is answered only once ``release``
    is set."""

    def __init__(self, fake: FakePleo) -> None:
        self._inner = fake.transport()
        self.release = asyncio.Event()
        self.export_pages = 0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if request.url.path == "/v3/export-items":
            self.export_pages += 1
            if self.export_pages == 3:
                await self.release.wait()
        return await self._inner.handle_async_request(request)


async def test_the_next_batch_is_ready_while_a_page_is_still_on_its_way(
    fake_pleo: FakePleo,
) -> None:
    """The export data is read a batch ahead in the background: the second batch of 100 is
    handed out while the third page is still coming. Here that page comes only once the
    second batch's first item is booked; a reader that reads the next batch only when the
    handler asks for an item past the current one (as 0.2's did) would wait for it forever
    and fail the time limit."""
    job_id = fake_pleo.add_job(items=250)
    transport = _HeldPage(fake_pleo)
    booked: list[uuid.UUID] = []

    async def book(work: Any) -> Booked:
        booked.append(work.accounting_entry_id)
        if len(booked) == 101:
            transport.release.set()
        return Booked()

    async with (
        httpx.AsyncClient(transport=transport) as http,
        PleoExport(api_key=DEFAULT_API_KEY, base_url="http://127.0.0.1", http_client=http) as pleo,
    ):
        await asyncio.wait_for(ExportWorker(pleo, book).run(until_idle=True), WAIT)
    assert len(set(booked)) == len(booked) == 250
    assert fake_pleo.job(job_id)["status"] == "completed"
    assert transport.export_pages == 3


@pytest.mark.parametrize("retry", [False, True], ids=["exceptions", "retry-answers"])
async def test_an_erp_down_for_a_while_fails_no_item(
    fake_pleo: FakePleo, pleo: PleoExport, retry: bool
) -> None:
    """The ERP is down for the first 0.4 s of a 200-item job (raising ``ConnectionError``, or
    answering ``Retry``): nothing is failed at Pleo, the job completes, and a call repeated
    after an exception is in doubt. Before the engine, 246 of 600 items were failed."""
    job_id = fake_pleo.add_job(items=200)
    erp = Erp(retry=retry)
    erp.down_for(0.4)
    worker = ExportWorker(pleo, erp.book, concurrency=8)
    await asyncio.wait_for(worker.run(until_idle=True), WAIT)
    assert fake_pleo.job(job_id)["status"] == "completed"
    assert fake_pleo.item_status_counts(job_id) == {"successful": 200}
    assert worker.stats.items_retried > 0
    assert worker.stats.outages >= 1  # the breaker opened, and was timed
    assert worker.stats.outage_seconds > 0
    if retry:  # Retry says nothing was booked: not in doubt
        assert all(not doubt for _, doubt in erp.calls)
    else:
        assert erp.repeats_not_in_doubt() == 0
        assert any(doubt for _, doubt in erp.calls)


async def test_a_flapping_erp_fails_no_item(fake_pleo: FakePleo, pleo: PleoExport) -> None:
    """Down 40 ms, up 40 ms, over and over: the breaker opens and closes, no item fails, every
    repeat is in doubt. An item failed after its attempts during the flapping fails this."""
    job_id = fake_pleo.add_job(items=150)
    erp = Erp()
    erp.down = lambda: int((time.monotonic() - erp.began) / 0.04) % 2 == 0
    worker = ExportWorker(pleo, erp.book, concurrency=4, max_attempts=3)
    await asyncio.wait_for(worker.run(until_idle=True), WAIT)
    assert fake_pleo.item_status_counts(job_id) == {"successful": 150}
    assert erp.repeats_not_in_doubt() == 0


async def test_an_outage_past_the_bound_fails_the_job_not_its_items(
    fake_pleo: FakePleo, pleo: PleoExport
) -> None:
    """The ERP stays down past ``max_outage``: the job fails with the job-level reason
    ``accounting_system_unreachable`` and no item is failed one by one. Failing items as
    ``unexpected_failure`` (as before) fails this."""
    job_id = fake_pleo.add_job(items=120)
    erp = Erp()
    erp.down = lambda: True
    worker = ExportWorker(pleo, erp.book, concurrency=8, max_outage=0.5)
    await asyncio.wait_for(worker.run(until_idle=True), WAIT)
    job = fake_pleo.job(job_id)
    assert (job["status"], job["failureReasonType"]) == ("failed", "accounting_system_unreachable")
    assert "failed" not in fake_pleo.item_status_counts(job_id)


async def test_a_handler_ends_the_job_on_purpose(fake_pleo: FakePleo, pleo: PleoExport) -> None:
    """``JobAbortedError`` from the handler fails the job with its reason type, at once; a
    worker that fails the item instead fails this."""
    job_id = fake_pleo.add_job(items=50)

    async def revoked(work: Any) -> Booked:
        raise JobAbortedError(
            "The ERP revoked our credentials.",
            reason_type="accounting_system_authentication_failure",
        )

    await asyncio.wait_for(ExportWorker(pleo, revoked).run(until_idle=True), WAIT)
    job = fake_pleo.job(job_id)
    assert job["status"] == "failed"
    assert job["failureReasonType"] == "accounting_system_authentication_failure"
    assert "failed" not in fake_pleo.item_status_counts(job_id)


async def test_run_process_books_concurrently_by_hand(
    fake_pleo: FakePleo, pleo: PleoExport
) -> None:
    """``run.process(handler, concurrency=16)`` inside ``async with pleo.export_run(job)``
    books every item once, 16 at a time, and the exit completes the job."""
    job_id = fake_pleo.add_job(items=160)
    erp = Erp()
    async with pleo.export_run(job_id) as run:
        await run.process(erp.book, concurrency=16)
    assert erp.most == 16
    assert len(erp.booked) == 160
    assert fake_pleo.job(job_id)["status"] == "completed"
