"""The export worker against the fake Pleo: it finds, claims and finishes jobs, shares them with
other workers without doing any twice, wakes on ``notify`` and stops leaving jobs resumable."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import datetime
from typing import Any

import httpx
import pytest

from pleo_export import (
    AuthenticationError,
    Booked,
    ExportWorker,
    PleoError,
    PleoExport,
    Progress,
    Rejected,
    ServerError,
)
from pleo_export.testing import DEFAULT_API_KEY, FakePleo, ManualClock

from .conftest import IN_PROCESS_URL

#: Upper bound on any wait below; a healthy run takes a fraction of it.
WAIT = 10.0


async def book(work: Any) -> Booked:
    """An async ERP that books everything under a voucher number."""
    await asyncio.sleep(0)
    return Booked(external_id=f"V-{work.accounting_entry_id.hex[:8]}")


def _job_events(fake: FakePleo, job_id: str) -> list[str | None]:
    return [event.event for event in fake.events(job_id, "job_status")]


async def test_a_worker_exports_every_pending_job(fake_pleo: FakePleo, pleo: PleoExport) -> None:
    """``run(until_idle=True)`` claims and completes each pending job, reporting progress."""
    jobs = [fake_pleo.add_job(items=count) for count in (3, 120, 0)]
    progress: list[Progress] = []
    worker = ExportWorker(pleo, book, on_progress=progress.append)
    await asyncio.wait_for(worker.run(until_idle=True), WAIT)
    for job_id in jobs:
        assert fake_pleo.job(job_id)["status"] == "completed"
        assert _job_events(fake_pleo, job_id) == ["started", "completed"]
    assert (worker.stats.jobs_processed, worker.stats.items_booked) == (3, 123)
    stages = [event.stage for event in progress]
    assert stages.count("started") == stages.count("finished") == 3
    assert stages.count("item") == 123
    finished = [event for event in progress if event.stage == "finished"]
    assert {event.status for event in finished} == {"completed"}
    assert {event.booked for event in finished} == {3, 120, 0}


async def test_handler_exceptions_and_rejections_fail_single_items(
    fake_pleo: FakePleo, pleo: PleoExport
) -> None:
    """A raising handler fails that item as unexpected_failure with its message; a Rejected
    outcome fails it with the handler's reason and type; the rest are booked."""
    job_id = fake_pleo.add_job(items=6)
    entries = fake_pleo.accounting_entry_ids(job_id)

    def ledger(work: Any) -> Booked | Rejected:  # a sync handler
        entry = str(work.accounting_entry_id)
        if entry == entries[1]:
            raise ValueError("no mapping for account 6010")
        if entry == entries[2]:
            return Rejected("Vendor not found in the ERP", reason_type="vendor_unknown")
        return Booked(external_id="V-1", external_url="https://erp.test/V-1")

    worker = ExportWorker(pleo, ledger)
    await asyncio.wait_for(worker.run(until_idle=True), WAIT)
    raised, rejected = fake_pleo.item(job_id, entries[1]), fake_pleo.item(job_id, entries[2])
    assert raised["status"] == "failed"
    assert raised["failureReasonType"] == "unexpected_failure"
    assert raised["failureReason"] == "ValueError: no mapping for account 6010"
    assert (rejected["failureReasonType"], rejected["failureReason"]) == (
        "vendor_unknown",
        "Vendor not found in the ERP",
    )
    assert fake_pleo.item(job_id, entries[0])["externalUrl"] == "https://erp.test/V-1"
    assert fake_pleo.job(job_id)["status"] == "completed_with_errors"
    assert (worker.stats.items_booked, worker.stats.items_failed) == (4, 2)


async def test_outcomes_pleo_would_refuse_fail_only_their_item(
    fake_pleo: FakePleo, pleo: PleoExport
) -> None:
    """No outcome, a naive booking time or an unknown reason type fails that item as
    unexpected_failure, with the problem as its reason; the job still completes."""
    job_id = fake_pleo.add_job(items=4)
    entries = fake_pleo.accounting_entry_ids(job_id)
    answers: dict[str, Any] = {
        entries[0]: None,
        entries[1]: Booked(exported_at=datetime(2025, 1, 1)),
        entries[2]: Rejected("Unknown", reason_type="erp_on_fire"),
        entries[3]: Booked(external_id="V-9"),
    }
    worker = ExportWorker(pleo, lambda item: answers[str(item.accounting_entry_id)])
    await asyncio.wait_for(worker.run(until_idle=True), WAIT)
    reasons = [fake_pleo.item(job_id, entry) for entry in entries[:3]]
    assert {item["failureReasonType"] for item in reasons} == {"unexpected_failure"}
    assert "not Booked, Rejected or Retry" in reasons[0]["failureReason"]
    assert "exported_at" in reasons[1]["failureReason"]
    assert "erp_on_fire" in reasons[2]["failureReason"]
    assert fake_pleo.item(job_id, entries[3])["status"] == "successful"
    assert fake_pleo.job(job_id)["status"] == "completed_with_errors"
    assert (worker.stats.items_booked, worker.stats.items_failed) == (1, 3)


async def test_a_handler_that_raises_for_everything_pauses_the_job(
    fake_pleo: FakePleo, pleo: PleoExport, caplog: pytest.LogCaptureFixture
) -> None:
    """The same unclassified exception on item after item is a bug in the handler, not a
    verdict on the items: the job is paused (in_progress, nothing failed at Pleo), the worker
    stays up and says so at ERROR and in its stats. Failing the items (as before: every item
    ``unexpected_failure`` and the job ``failed``) fails this."""
    job_id = fake_pleo.add_job(items=30)

    async def broken(work: Any) -> Booked:
        raise RuntimeError("SQLite objects created in a thread can only be used in that thread")

    worker = ExportWorker(pleo, broken)
    await asyncio.wait_for(worker.run(until_idle=True), WAIT)
    job = fake_pleo.job(job_id)
    assert job["status"] == "in_progress"
    assert fake_pleo.item_status_counts(job_id) == {"pending": 30}
    assert worker.stats.jobs_systemic == 1
    assert any("a bug, not an outage" in r.getMessage() for r in caplog.records)


async def test_jobs_are_taken_oldest_first(
    fake_pleo: FakePleo, fake_pleo_clock: ManualClock, pleo: PleoExport
) -> None:
    """With one job at a time, jobs start in ``createdAt`` order, whatever their ids."""
    created = []
    for _ in range(4):
        created.append(fake_pleo.add_job(items=1))
        fake_pleo_clock.advance(seconds=60)
    started: list[str] = []
    worker = ExportWorker(
        pleo,
        book,
        max_jobs=1,
        on_progress=lambda p: started.append(str(p.job_id)) if p.stage == "started" else None,
    )
    await asyncio.wait_for(worker.run(until_idle=True), WAIT)
    assert started == created


async def test_company_ids_limit_the_worker(fake_pleo: FakePleo, pleo: PleoExport) -> None:
    """A worker given company ids leaves other companies' jobs alone."""
    mine, theirs = fake_pleo.add_company(), fake_pleo.add_company()
    my_job, their_job = fake_pleo.add_job(mine, items=2), fake_pleo.add_job(theirs, items=2)
    worker = ExportWorker(pleo, book, company_ids=[mine])
    await asyncio.wait_for(worker.run(until_idle=True), WAIT)
    assert fake_pleo.job(my_job)["status"] == "completed"
    assert fake_pleo.job(their_job)["status"] == "pending"


async def test_notify_wakes_a_sleeping_worker(fake_pleo: FakePleo, pleo: PleoExport) -> None:
    """With an hour between polls, a job created after the first poll runs as soon as
    ``notify`` names it."""
    finished = asyncio.Event()
    worker = ExportWorker(
        pleo,
        book,
        poll_interval=3600,
        on_progress=lambda p: finished.set() if p.stage == "finished" else None,
    )
    polled = asyncio.Event()

    async def on_response(response: httpx.Response) -> None:
        if response.request.url.path == "/v3/export-jobs":
            polled.set()

    pleo.http_client.event_hooks["response"].append(on_response)
    task = asyncio.create_task(worker.run())
    await asyncio.wait_for(polled.wait(), WAIT)  # the first poll found nothing; now it sleeps
    job_id = fake_pleo.add_job(items=5)
    await worker.notify(job_id)
    await asyncio.wait_for(finished.wait(), WAIT)
    worker.stop()
    await asyncio.wait_for(task, WAIT)
    assert fake_pleo.job(job_id)["status"] == "completed"
    assert fake_pleo.request_counts["getExportJobsListV3"] >= 2


async def test_notify_refuses_a_malformed_id(pleo: PleoExport) -> None:
    """``notify`` checks the id it is given."""
    with pytest.raises(PleoError):
        await ExportWorker(pleo, book).notify("not-a-job-id")


async def test_graceful_stop_leaves_the_job_for_another_worker(
    fake_pleo: FakePleo, pleo: PleoExport
) -> None:
    """``stop()`` mid-job flushes and leaves it in_progress; a fresh worker (resume_idle=0)
    resumes it without a second ``started`` and every item is reported once."""
    job_id = fake_pleo.add_job(items=30)
    first: ExportWorker

    async def book_then_stop(work: Any) -> Booked:
        if first.stats.items_booked == 9:
            first.stop()  # e.g. SIGTERM during the 10th booking
        return await book(work)

    first = ExportWorker(pleo, book_then_stop, poll_interval=3600)
    await asyncio.wait_for(first.run(), WAIT)
    assert fake_pleo.job(job_id)["status"] == "in_progress"
    assert fake_pleo.item_status_counts(job_id) == {"successful": 10, "pending": 20}
    assert first.stats.jobs_paused == 1

    cautious = ExportWorker(pleo, book)  # default resume_idle: the job looks like a live run
    await asyncio.wait_for(cautious.run(until_idle=True), WAIT)
    assert fake_pleo.job(job_id)["status"] == "in_progress"

    progress: list[Progress] = []
    second = ExportWorker(pleo, book, resume_idle=0, on_progress=progress.append)
    await asyncio.wait_for(second.run(until_idle=True), WAIT)
    assert fake_pleo.job(job_id)["status"] == "completed"
    assert progress[0].stage == "resumed"
    assert _job_events(fake_pleo, job_id) == ["started", "completed"]
    counts = fake_pleo.item_update_counts(job_id)
    assert len(counts) == 30
    assert set(counts.values()) == {1}


async def test_cancelling_run_leaves_jobs_resumable(fake_pleo: FakePleo, pleo: PleoExport) -> None:
    """Cancelling ``run()`` (service shutdown) leaves the running job in_progress."""
    job_id = fake_pleo.add_job(items=20)
    three_done = asyncio.Event()

    async def slow(work: Any) -> Booked:
        if three_done.is_set():
            await asyncio.Event().wait()  # the ERP hangs
        if worker.stats.items_booked == 2:
            three_done.set()
        return Booked()

    worker = ExportWorker(pleo, slow)
    task = asyncio.create_task(worker.run())
    await asyncio.wait_for(three_done.wait(), WAIT)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert fake_pleo.job(job_id)["status"] == "in_progress"
    assert fake_pleo.item_status_counts(job_id) == {"successful": 3, "pending": 17}


@pytest.fixture
async def two_clients(
    fake_pleo_transport: httpx.AsyncBaseTransport,
) -> AsyncIterator[tuple[PleoExport, PleoExport]]:
    """Two independent clients (two pools), as two processes sharing one account would have."""
    async with (
        httpx.AsyncClient(transport=fake_pleo_transport) as one,
        httpx.AsyncClient(transport=fake_pleo_transport) as two,
        PleoExport(api_key=DEFAULT_API_KEY, base_url=IN_PROCESS_URL, http_client=one) as a,
        PleoExport(api_key=DEFAULT_API_KEY, base_url=IN_PROCESS_URL, http_client=two) as b,
    ):
        yield a, b


async def test_two_workers_race_without_doing_anything_twice(
    fake_pleo: FakePleo, two_clients: tuple[PleoExport, PleoExport]
) -> None:
    """20 jobs over 5 companies (4 each, one after another, as Pleo allows), both workers
    notified of each: every job is claimed once, finished once, every item reported once."""
    companies = [fake_pleo.add_company() for _ in range(5)]
    done: dict[str, asyncio.Event] = {}

    def on_progress(progress: Progress) -> None:
        if progress.stage == "finished":
            done[str(progress.job_id)].set()

    workers = [
        ExportWorker(client, book, poll_interval=3600, max_jobs=3, on_progress=on_progress)
        for client in two_clients
    ]
    runs = [asyncio.create_task(worker.run()) for worker in workers]
    created: list[str] = []

    async def feed(company: str, sizes: tuple[int, ...]) -> None:
        for size in sizes:
            job_id = fake_pleo.add_job(company, items=size)
            created.append(job_id)
            done[job_id] = asyncio.Event()
            for worker in workers:
                await worker.notify(job_id)
            await done[job_id].wait()

    feeders = [feed(company, (7 + n, 130, 1, 25 + n)) for n, company in enumerate(companies)]
    await asyncio.wait_for(asyncio.gather(*feeders), WAIT)
    for worker in workers:
        worker.stop()
    await asyncio.wait_for(asyncio.gather(*runs), WAIT)

    assert len(created) == 20
    for job_id in created:
        job = fake_pleo.job(job_id)
        assert job["status"] == "completed"
        assert _job_events(fake_pleo, job_id) == ["started", "completed"]
        counts = fake_pleo.item_update_counts(job_id)
        assert len(counts) == job["numberOfItems"]
        assert set(counts.values()) <= {1}
    assert sum(worker.stats.jobs_processed for worker in workers) == 20
    # Both workers hear of every job, so they race for it: some claims must have been lost.
    assert sum(worker.stats.jobs_skipped for worker in workers) > 0
    assert sum(worker.stats.jobs_errored for worker in workers) == 0
    total_items = sum(fake_pleo.job(job_id)["numberOfItems"] for job_id in created)
    assert sum(worker.stats.items_booked for worker in workers) == total_items


async def test_a_worker_runs_only_once_at_a_time(pleo: PleoExport) -> None:
    """A second concurrent ``run()`` on the same worker is refused."""
    worker = ExportWorker(pleo, book, poll_interval=3600)
    task = asyncio.create_task(worker.run())
    await asyncio.sleep(0)
    with pytest.raises(PleoError, match="already running"):
        await worker.run()
    worker.stop()
    await asyncio.wait_for(task, WAIT)


@pytest.mark.parametrize(
    ("argument", "value"), [("poll_interval", 0), ("max_jobs", 0), ("resume_idle", -1)]
)
def test_worker_settings_are_checked(pleo: PleoExport, argument: str, value: float) -> None:
    """Nonsense settings are refused when the worker is made."""
    with pytest.raises(PleoError, match=argument):
        ExportWorker(pleo, book, **{argument: value})


def test_outcomes_are_plain_values() -> None:
    """Booked and Rejected are small frozen records with sensible defaults."""
    assert Booked() == Booked(external_id=None, external_url=None, exported_at=None)
    assert Rejected("why").reason_type == "validation_failure"
    with pytest.raises(AttributeError):
        Booked().external_id = "x"  # type: ignore[misc]


@pytest.mark.parametrize(("resume_idle", "deferred"), [(600.0, True), (0.0, False)])
async def test_an_unconfirmed_claim_is_deferred_when_workers_share_the_account(
    fake_pleo: FakePleo, pleo: PleoExport, resume_idle: float, deferred: bool
) -> None:
    """A ``started`` seen only by re-reading the job (its answer was lost) could be another
    worker's claim: with ``resume_idle > 0`` the worker leaves the job in_progress for the idle
    resume and books nothing; a lone worker (``resume_idle=0``) goes ahead."""
    job_id = fake_pleo.add_job(items=5)
    fake_pleo.faults.add("lost_response", route="createExportJobEvent", times=1)
    booked: list[Any] = []

    def ledger(work: Any) -> Booked:
        booked.append(work.accounting_entry_id)
        return Booked(external_id="V-1")

    worker = ExportWorker(pleo, ledger, resume_idle=resume_idle)
    task = asyncio.create_task(worker.run())
    for _ in range(200):
        if worker.stats.jobs_deferred or worker.stats.jobs_processed:
            break
        await asyncio.sleep(0.01)
    worker.stop()
    await asyncio.wait_for(task, WAIT)
    assert _job_events(fake_pleo, job_id)[0] == "started"
    if deferred:
        assert worker.stats.jobs_deferred == 1
        assert booked == []
        assert fake_pleo.job(job_id)["status"] == "in_progress"
    else:
        assert worker.stats.jobs_deferred == 0
        assert len(booked) == 5
        assert fake_pleo.job(job_id)["status"] == "completed"


async def test_refused_credentials_end_the_worker_with_the_error(fake_pleo: FakePleo) -> None:
    """A 401 on listing jobs cannot heal by waiting: ``run()`` raises it instead of polling on."""
    http = httpx.AsyncClient(transport=fake_pleo.transport())
    async with PleoExport(api_key="not-a-key", base_url=IN_PROCESS_URL, http_client=http) as pleo:
        worker = ExportWorker(pleo, book, poll_interval=3600)
        with pytest.raises(AuthenticationError):
            await asyncio.wait_for(worker.run(), WAIT)
    await http.aclose()


async def test_a_one_shot_run_raises_a_failed_listing(
    fake_pleo: FakePleo, pleo: PleoExport
) -> None:
    """With ``until_idle`` a listing that fails after its retries is raised, not taken for an
    empty account."""
    fake_pleo.add_job(items=1)
    fake_pleo.faults.add("status", status=503, route="getExportJobsList")
    worker = ExportWorker(pleo, book)
    with pytest.raises(ServerError):
        await asyncio.wait_for(worker.run(until_idle=True), WAIT)


async def test_a_stale_listing_does_not_start_a_job_this_worker_finished(
    fake_pleo: FakePleo, pleo: PleoExport, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A listing taken just before a job finished still shows it running: the worker that
    finished it does not start it again."""
    job_id = fake_pleo.add_job(items=3)
    await pleo.jobs.start(job_id)
    stale = await pleo.jobs.get(job_id)  # in_progress, as a listing in flight would show it
    worker = ExportWorker(pleo, book, resume_idle=0)
    await asyncio.wait_for(worker.run(until_idle=True), WAIT)
    assert fake_pleo.job(job_id)["status"] == "completed"

    async def stale_listing() -> list[Any]:
        return [stale]

    monkeypatch.setattr(worker, "_candidates", stale_listing)
    await asyncio.wait_for(worker.run(until_idle=True), WAIT)
    assert (worker.stats.jobs_processed, worker.stats.jobs_skipped) == (1, 0)
    assert _job_events(fake_pleo, job_id) == ["started", "completed"]
