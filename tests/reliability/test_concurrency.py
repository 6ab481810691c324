"""Concurrency: one client shared by many tasks, and two workers on one account.

The fake's event log is the judge: every item is reported exactly once, with its own data.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from pathlib import Path
from typing import Any

import httpx
import pytest

from pleo_export import Booked, ExportWorker, PleoExport, RetryPolicy
from pleo_export.coordination import SQLiteCoordinator
from pleo_export.testing import DEFAULT_API_KEY, FakePleo

from ._figures import record
from .conftest import FAST_RETRY, RetryLog, client_on

pytestmark = pytest.mark.timeout(60)

JOBS = 5
ITEMS_PER_JOB = 400
TASKS = 50
SLICE = ITEMS_PER_JOB * JOBS // TASKS
FEW_RETRIES = RetryPolicy(max_retries=2, wait_initial=0.001, wait_max=0.001, wait_jitter=0.0)


def _external_id(entry: str) -> str:
    return f"GL-{entry[-12:]}"


async def _task(pleo: PleoExport, fake: FakePleo, job: str, entries: list[str]) -> Counter[str]:
    """One task's share: read the job, page its items, read export data, report its slice."""
    calls: Counter[str] = Counter()
    got = await pleo.jobs.get(job)
    assert str(got.id) == job
    assert got.status == "in_progress"
    calls["jobs.get"] += 1
    seen = [str(item.accounting_entry_id) async for item in pleo.job_items.list(job, limit=100)]
    assert len(seen) == ITEMS_PER_JOB
    assert len(set(seen)) == ITEMS_PER_JOB
    calls["job_items.list"] += 1
    exported = [item async for item in pleo.export_items.list(job, limit=20, max_items=SLICE)]
    assert len(exported) == SLICE
    calls["export_items.list"] += 1
    result = await pleo.job_items.update(
        job,
        [
            {"accountingEntryId": e, "status": "successful", "externalId": _external_id(e)}
            for e in entries
        ],
    )
    calls["job_items.update"] += 1
    # The answer is this task's own, not another's that shared the pool.
    assert sorted(str(item.accounting_entry_id) for item in result.data) == sorted(entries)
    assert not result.errors
    company = fake.job(job)["companyId"]
    item = await pleo.job_items.get_by_accounting_entry(
        company_id=company, accounting_entry_id=entries[0]
    )
    assert item.status == "successful"
    assert item.external_id == _external_id(entries[0])
    calls["job_items.get_by_accounting_entry"] += 1
    return calls


async def test_one_client_shared_by_fifty_tasks(retry_log: RetryLog) -> None:
    """50 tasks share one PleoExport over TCP with faults; each item is reported once, correctly."""
    fake = FakePleo(seed=21)
    jobs = [fake.add_job(items=ITEMS_PER_JOB, status="in_progress") for _ in range(JOBS)]
    fake.faults.add("status", status=503, rate=0.05)
    fake.faults.add("drop", rate=0.02)
    shares: list[tuple[str, list[str]]] = []
    for job in jobs:
        entries = fake.accounting_entry_ids(job)
        shares += [(job, entries[i : i + SLICE]) for i in range(0, ITEMS_PER_JOB, SLICE)]
    assert len(shares) == TASKS
    with fake.serve() as url:
        async with PleoExport(
            api_key=DEFAULT_API_KEY, base_url=url, retry=FAST_RETRY, timeout=10.0
        ) as pleo:
            results = await asyncio.gather(*(_task(pleo, fake, j, e) for j, e in shares))
    calls = sum(results, Counter[str]())
    for job in jobs:
        assert fake.item_status_counts(job) == {"successful": ITEMS_PER_JOB}
        counts = fake.item_update_counts(job)
        assert len(counts) == ITEMS_PER_JOB
        assert set(counts.values()) == {1}  # no item reported twice
        for entry in fake.accounting_entry_ids(job)[::37]:
            assert fake.item(job, entry)["externalId"] == _external_id(entry)
    assert retry_log.total > 0  # the faults did make requests retry
    record(
        "concurrency",
        tasks_sharing_one_client=TASKS,
        calls_by_those_tasks=sum(calls.values()),
        faults_injected_under_them=fake.faults.counts,
        retries_under_them=retry_log.total,
        items_reported_twice=0,
    )


async def test_in_process_client_shared_by_many_tasks() -> None:
    """The same sharing through the in-process transport: gathered gets and lists agree."""
    fake = FakePleo(seed=22)
    jobs = [fake.add_job(items=30) for _ in range(10)]
    http = httpx.AsyncClient(transport=fake.transport())
    async with PleoExport(
        api_key=DEFAULT_API_KEY, base_url="http://127.0.0.1", http_client=http, retry=FAST_RETRY
    ) as pleo:

        async def read(job: str) -> tuple[Any, int]:
            got = await pleo.jobs.get(job)
            return got, len([i async for i in pleo.job_items.list(job, limit=7)])

        answers = await asyncio.gather(*(read(jobs[n % len(jobs)]) for n in range(100)))
    await http.aclose()
    for n, (got, count) in enumerate(answers):
        assert str(got.id) == jobs[n % len(jobs)]
        assert count == 30


COMPANIES = 16
JOBS_PER_COMPANY = 3
ITEMS_PER_SMALL_JOB = 40
RUNNING = ("pending", "in_progress")


def _coordinators(path: Path, count: int) -> list[SQLiteCoordinator]:
    """One ``SQLiteCoordinator`` per worker on one file, as separate processes would have."""
    return [SQLiteCoordinator(path) for _ in range(count)]


@pytest.mark.parametrize("lost_event_answers", [0.0, 0.2], ids=["503s", "503s and lost answers"])
async def test_two_workers_on_one_account_handle_each_job_once(
    retry_log: RetryLog, lost_event_answers: float, tmp_path: Path
) -> None:
    """Two workers with their own clients share one account and one coordinator; each job is
    claimed once and each item handled once, lost answers to ``started`` included (before the
    fenced leases, two workers could both export a job whose claim neither saw confirmed)."""
    fake = FakePleo(seed=23)
    companies = [fake.add_company() for _ in range(COMPANIES)]
    for company in companies:
        fake.add_job(company, items=ITEMS_PER_SMALL_JOB)
    fake.faults.add("status", status=503, rate=0.05)
    if lost_event_answers:
        # A worker must then reconcile an event it saw no answer to, while the other worker
        # may be claiming the same job.
        fake.faults.add("lost_response", route="createExportJobEventV3", rate=lost_event_answers)
    handled: Counter[tuple[str, str]] = Counter()  # (worker, entry)

    def handler(name: str) -> Any:
        def book(work: Any) -> Booked:
            handled[(name, str(work.accounting_entry_id))] += 1
            return Booked(external_id=f"{name}-{work.accounting_entry_id}")

        return book

    def running() -> set[str]:
        return {job["companyId"] for job in fake.jobs() if job["status"] in RUNNING}

    async def feed() -> None:
        """Each company gets its next job once its last one is final (Pleo allows one)."""
        while True:
            busy = running()
            for company in companies:
                if company not in busy and len(fake.jobs(company)) < JOBS_PER_COMPANY:
                    fake.add_job(company, items=ITEMS_PER_SMALL_JOB)
            if all(len(fake.jobs(c)) == JOBS_PER_COMPANY for c in companies) and not running():
                return
            await asyncio.sleep(0.01)

    journals = _coordinators(tmp_path / "journal.sqlite", 2)
    with fake.serve() as url:
        async with (
            PleoExport(api_key=DEFAULT_API_KEY, base_url=url, retry=FAST_RETRY, timeout=10.0) as a,
            PleoExport(api_key=DEFAULT_API_KEY, base_url=url, retry=FAST_RETRY, timeout=10.0) as b,
        ):
            workers = [
                ExportWorker(pleo, handler(name), poll_interval=0.02, coordinator=journal)
                for pleo, name, journal in ((a, "a", journals[0]), (b, "b", journals[1]))
            ]
            tasks = [asyncio.create_task(w.run()) for w in workers]
            await asyncio.wait_for(feed(), timeout=45)
            for worker in workers:
                worker.stop()
            await asyncio.gather(*tasks)
    for journal in journals:
        await journal.aclose()
    jobs = fake.jobs()
    assert len(jobs) == COMPANIES * JOBS_PER_COMPANY
    assert {job["status"] for job in jobs} == {"completed"}
    for job in jobs:
        events = [e.event for e in fake.events(job["id"], "job_status")]
        assert events == ["started", "completed"]  # claimed once, completed once
        counts = fake.item_update_counts(job["id"])
        assert len(counts) == ITEMS_PER_SMALL_JOB
        assert set(counts.values()) == {1}  # each item reported once
    per_entry = Counter(entry for (_, entry) in handled)
    twice = sorted(e for e, n in per_entry.items() if n > 1)
    assert twice == []  # no item handed to a handler twice, by either worker
    assert len(per_entry) == COMPANIES * JOBS_PER_COMPANY * ITEMS_PER_SMALL_JOB
    stats = [w.stats for w in workers]
    if lost_event_answers:
        record(
            "concurrency",
            lost_event_answers_under_two_workers=fake.faults.counts.get("lost_response", 0),
        )
        return
    record(
        "concurrency",
        workers_on_one_account=len(workers),
        jobs_for_the_two_workers=len(jobs),
        jobs_by_worker=[s.jobs_processed for s in stats],
        claims_lost_to_the_other_worker=sum(s.jobs_skipped for s in stats),
        jobs_or_items_handled_twice=0,
    )


@pytest.mark.parametrize("fault", ["lost_response", "drop"])
async def test_a_lost_claim_is_not_taken_for_ours_when_another_worker_holds_the_job(
    fault: str,
) -> None:
    """Worker A claims a job; B's claim gets no answer (lost, or every attempt dropped) and the
    job reads in_progress: B's claim is reported unconfirmed (False), never as certainly its
    own (True), and not as an error either."""
    fake = FakePleo(seed=24)
    job = fake.add_job(items=3)
    async with client_on(fake) as a, client_on(fake, retry=FEW_RETRIES) as b:
        await a.jobs.start(job)
        fake.faults.add(fault, route="createExportJobEventV3", times=1 if fault != "drop" else None)
        assert await b.jobs.start(job) is False


async def test_two_workers_resuming_one_idle_job_export_it_once(tmp_path: Path) -> None:
    """A job left in_progress (its worker died): of two workers with separate clients sharing
    a coordinator, only one resumes and exports it (without one, both did: Pleo offers no
    lock for resuming, and the idle heuristic has none either)."""
    fake = FakePleo(seed=25)
    job = fake.add_job(items=40, status="in_progress")
    handled: Counter[str] = Counter()

    def book(work: Any) -> Booked:
        handled[str(work.accounting_entry_id)] += 1
        return Booked(external_id="GL-1")

    journals = _coordinators(tmp_path / "journal.sqlite", 2)
    async with client_on(fake) as a, client_on(fake) as b:
        workers = [
            ExportWorker(pleo, book, poll_interval=0.02, coordinator=journal)
            for pleo, journal in zip((a, b), journals, strict=True)
        ]
        await asyncio.wait_for(
            asyncio.gather(*(w.run(until_idle=True) for w in workers)), timeout=20
        )
    for journal in journals:
        await journal.aclose()
    assert fake.job(job)["status"] == "completed"
    assert set(handled.values()) == {1}  # each item handed to one worker's handler, once
