"""Soak: a 10,000-item job exported by ``ExportWorker`` while the fake injects faults.

Per request: 10% 503, 5% 429 with Retry-After, 2% dropped connections, 1% timeouts (a delay
past the client's read timeout), and 1% of item updates and job events applied with their
answer lost. Outcome: the job completes, every item is ``successful`` on the server with its
ledger document number, and the demo's SQLite ledger holds each entry exactly once.

Only waits are scaled down, through ``RetryPolicy`` and a short timeout; every check stays.
"""

from __future__ import annotations

import sqlite3
import time
from collections import Counter
from pathlib import Path
from typing import Any

import httpx
import pytest

from pleo_export import Booked, ExportWorker, PleoExport, Progress, RetryPolicy
from pleo_export.testing import DEFAULT_API_KEY, FakePleo

from ._figures import record
from .conftest import BASE_URL, RetryLog, load_example

pytestmark = [pytest.mark.slow, pytest.mark.timeout(120)]

ITEMS = 10_000
#: Ten retries at most 5 ms apart: with ~19% of requests failing, one request failing eleven
#: times in a row has odds of about 1e-8. A Retry-After of 1 s is honoured, capped to 5 ms.
SOAK_RETRY = RetryPolicy(
    max_retries=10, wait_initial=0.001, wait_max=0.005, wait_jitter=0.001, retry_after_max=0.005
)
READ_TIMEOUT = 0.5
DELAY = 1.0  # past READ_TIMEOUT: the client gives up first, and the fake never applies it


def _add_faults(fake: FakePleo) -> Any:
    """The soak's fault mix; returns a rule to arm just before the completion event."""
    faults = fake.faults
    faults.add("status", status=503, rate=0.10)
    faults.add("rate_limit", rate=0.05, retry_after=1)
    faults.add("drop", rate=0.02)
    faults.add("delay", rate=0.01, seconds=DELAY)
    for route in ("updateExportJobItemsV3", "createExportJobEventV3"):
        faults.add("lost_response", route=route, rate=0.01)
        # At these rates a run may meet no lost answer at all: make sure it meets one of
        # each, on the first update and on the ``started`` event.
        faults.add("lost_response", route=route, times=1)
    last = faults.add("lost_response", route="createExportJobEventV3", times=1)
    last.enabled = False
    return last


class Booker:
    """The handler: books each export item in the demo's SQLite ledger, counting attempts."""

    def __init__(self, path: Path) -> None:
        self.ledger = load_example("ledger").Ledger(path)
        self.attempts: Counter[str] = Counter()
        self.new = 0

    def __call__(self, work: Any) -> Booked:
        entry = str(work.accounting_entry_id)
        self.attempts[entry] += 1
        booking = self.ledger.book(work.export_item, job_id="soak")
        self.new += booking.new
        return Booked(external_id=booking.document)


async def test_soak_ten_thousand_items_under_faults(tmp_path: Path, retry_log: RetryLog) -> None:
    """The job completes and every item is booked exactly once and reported right on Pleo."""
    fake = FakePleo(seed=2024)
    job = fake.add_job(items=ITEMS)
    completion_loss = _add_faults(fake)
    booker = Booker(tmp_path / "ledger.sqlite")

    def arm(progress: Progress) -> None:
        if progress.stage == "item" and progress.booked + progress.failed == progress.total:
            completion_loss.enabled = True  # the next event is ``completed``: lose its answer

    http = httpx.AsyncClient(transport=fake.transport())
    began = time.perf_counter()
    async with PleoExport(
        api_key=DEFAULT_API_KEY,
        base_url=BASE_URL,
        http_client=http,
        retry=SOAK_RETRY,
        timeout=httpx.Timeout(READ_TIMEOUT, connect=READ_TIMEOUT),
    ) as pleo:
        worker = ExportWorker(pleo, booker, poll_interval=0.05, resume_idle=0, on_progress=arm)
        await worker.run(until_idle=True)
    await http.aclose()
    elapsed = time.perf_counter() - began
    booker.ledger.close()

    # The job ended completed, and every item is successful with its own document number.
    assert fake.job(job)["status"] == "completed"
    assert fake.item_status_counts(job) == {"successful": ITEMS}
    assert worker.stats.items_booked == ITEMS
    assert worker.stats.items_failed == 0
    assert worker.stats.jobs_processed == 1
    with sqlite3.connect(tmp_path / "ledger.sqlite") as db:
        rows = dict(db.execute("SELECT accounting_entry_id, number FROM entries").fetchall())
        (count,) = db.execute("SELECT COUNT(*) FROM entries").fetchone()
    entries = fake.accounting_entry_ids(job)
    assert count == len(rows) == ITEMS  # each entry once in the ledger
    assert set(rows) == set(entries)
    wrong = [e for e in entries if fake.item(job, e)["externalId"] != f"GL-{rows[e]:06d}"]
    assert wrong == []
    # One uninterrupted run hands each item to the handler once.
    assert set(booker.attempts.values()) == {1}
    assert booker.new == ITEMS
    # Every fault kind struck, and the client retried through them.
    injected = fake.faults.counts
    assert set(injected) >= {"status", "rate_limit", "drop", "delay", "lost_response"}
    assert not completion_loss.enabled or completion_loss.injected == 1
    assert retry_log.total > 0
    updates = fake.item_update_counts(job)
    assert len(updates) == ITEMS
    events = [e.event for e in fake.events(job, "job_status")]
    assert events == ["started", "completed"]  # each event applied once despite lost answers
    record(
        "soak",
        items=ITEMS,
        job_status=fake.job(job)["status"],
        items_lost=ITEMS - fake.item_status_counts(job).get("successful", 0),
        items_double_booked=count - len(rows),
        handler_calls=sum(booker.attempts.values()),
        faults_injected=injected,
        retries_total=retry_log.total,
        retries=dict(retry_log.reasons),
        item_updates_applied_twice=sum(1 for n in updates.values() if n > 1),
        requests=sum(fake.request_counts.values()),
        wall_time_s=round(elapsed, 1),
    )
    assert elapsed < 60
