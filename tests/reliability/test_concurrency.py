"""Concurrency: one client shared by many tasks, and two workers on one account.

The fake's event log is the judge: every item is reported exactly once, with its own data.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from typing import Any

import httpx
import pytest

from pleo_export import PleoExport
from pleo_export.testing import DEFAULT_API_KEY, FakePleo

from ._figures import record
from .conftest import FAST_RETRY, RetryLog

pytestmark = pytest.mark.timeout(60)

JOBS = 5
ITEMS_PER_JOB = 400
TASKS = 50
SLICE = ITEMS_PER_JOB * JOBS // TASKS


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
