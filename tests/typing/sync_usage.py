"""The sync API used the way the README shows it, checked by ``mypy --strict`` (never run).

Each ``assert_type`` pins what a user's type checker sees of ``pleo_export.sync``: the same
models and precise types as the async API. Check it with:

    .venv/bin/mypy --strict tests/typing/sync_usage.py
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import assert_type

from pleo_export import PagingOptions
from pleo_export.coordination import SQLiteCoordinator
from pleo_export.models import (
    ExportItemV2,
    ExportItemV3,
    ExportJob,
    ExportJobItem,
    ExportJobItemUpdateV3,
    ExportJobItemV3,
    ExportJobV3,
)
from pleo_export.sync import (
    BatchResult,
    Booked,
    DownloadedFile,
    ExportRun,
    ExportWorker,
    ItemFile,
    Page,
    Pager,
    PleoExport,
    Rejected,
    ResponseMeta,
    Retry,
    RunStats,
    WorkerStats,
    WorkItem,
    with_response,
)


def v3_client(pleo: PleoExport, job_id: uuid.UUID) -> None:
    assert_type(pleo.v3.jobs.get(job_id), ExportJobV3)
    assert_type(pleo.v3.jobs.list(statuses=["pending"]), Pager[ExportJobV3])
    for job in pleo.v3.jobs.list():
        assert_type(job, ExportJobV3)
        assert_type(pleo.v3.jobs.start(job), bool)
        assert_type(pleo.v3.jobs.complete(job), None)
    for page in pleo.v3.job_items.list(job_id).pages():
        assert_type(page, Page[ExportJobItemV3])
    assert_type(pleo.v3.export_items.list(job_id).first_page(), Page[ExportItemV3])
    paging: PagingOptions = {"after": "cursor", "prefetch": 0}  # a wrapper passes them on
    assert_type(pleo.v3.job_items.list(job_id, status="pending", **paging), Pager[ExportJobItemV3])
    pleo.v3.export_items.list(job_id, max_items="10")  # type: ignore[arg-type]
    assert_type(pleo.v3.job_items.update(job_id, []), ExportJobItemUpdateV3)
    assert_type(pleo.v3.job_items.update_all(job_id, []), BatchResult)
    assert_type(
        pleo.v3.job_items.get_by_accounting_entry(company_id=job_id, accounting_entry_id=job_id),
        ExportJobItemV3,
    )
    assert_type(pleo.with_options(timeout=5).v3.jobs.get(job_id), ExportJobV3)
    job, meta = with_response(pleo.v3.jobs.get, job_id)
    assert_type(job, ExportJobV3)
    assert_type(meta, ResponseMeta)


def default_and_v2(pleo: PleoExport, job_id: uuid.UUID) -> None:
    # ``api_version`` picks at run time, so the default resources are typed for either.
    assert_type(pleo.jobs.get(job_id), ExportJobV3 | ExportJob)
    for job in pleo.v2.jobs.list():
        assert_type(job, ExportJob)
    for item in pleo.v2.export_items.list(job_id):
        assert_type(item, ExportItemV2)


def runs_and_files(pleo: PleoExport, job_id: uuid.UUID, folder: Path) -> None:
    run = pleo.v3.export_run(job_id, coordinator=SQLiteCoordinator(folder / "journal.sqlite"))
    assert_type(run, ExportRun[ExportJobV3, ExportJobItemV3, ExportItemV3])
    with run:
        for work in run.pending():
            assert_type(work, WorkItem[ExportJobItemV3, ExportItemV3])
            assert_type(work.export_item, ExportItemV3)
            assert_type(work.in_doubt, bool)
            for file in work.files():
                assert_type(file, ItemFile)
                assert_type(pleo.files.read(file), DownloadedFile)
                assert_type(pleo.files.store(file, folder), DownloadedFile)
            run.succeeded(work, external_id="GL-1")
    assert_type(run.stats, RunStats)
    assert_type(run.final_status, str | None)


def book_v3(work: WorkItem[ExportJobItemV3, ExportItemV3]) -> Booked | Rejected:
    return Booked(external_id=str(work.export_item.accounting_entry_id))


def book_any(
    work: WorkItem[ExportJobItemV3 | ExportJobItem, ExportItemV3 | ExportItemV2],
) -> Booked | Rejected:
    return Rejected("not yet")


def workers(pleo: PleoExport) -> None:
    exact = ExportWorker(pleo.v3, book_v3, max_jobs=2)
    assert_type(exact, ExportWorker[ExportItemV3])
    either = ExportWorker(pleo, book_any)
    assert_type(either, ExportWorker[ExportItemV3 | ExportItemV2])
    either.run(until_idle=True)
    assert_type(either.stats, WorkerStats)


def book_many(
    batch: Sequence[WorkItem[ExportJobItemV3, ExportItemV3]],
) -> dict[uuid.UUID, Booked | Retry]:
    return {work.accounting_entry_id: Booked() for work in batch}


def book_many_in_order(
    batch: Sequence[WorkItem[ExportJobItemV3 | ExportJobItem, ExportItemV3 | ExportItemV2]],
) -> list[Booked | Rejected]:
    return [Rejected("not yet") for _ in batch]


def batch_workers(pleo: PleoExport) -> None:
    """A plain batch handler needs ``batch_size``; a single-item one refuses it."""
    exact = ExportWorker(pleo.v3, book_many, batch_size=50, concurrency=4)
    assert_type(exact, ExportWorker[ExportItemV3])
    assert_type(exact.batch_size, int | None)
    either = ExportWorker(pleo, book_many_in_order, batch_size=10)
    assert_type(either, ExportWorker[ExportItemV3 | ExportItemV2])
    ExportWorker(pleo.v3, book_many)  # type: ignore[arg-type]
    ExportWorker(pleo.v3, book_v3, batch_size=50)  # type: ignore[arg-type]


def run_process(pleo: PleoExport, job_id: uuid.UUID) -> None:
    """``run.process`` with a plain handler, or a plain batch handler and ``batch_size``."""
    with pleo.v3.export_run(job_id) as run:
        assert_type(run.process(book_v3, concurrency=8), str)
        assert_type(run.process(book_many, batch_size=25, concurrency=2), str)
        run.process(book_many)  # type: ignore[arg-type]
        run.process(book_v3, batch_size=25)  # type: ignore[arg-type]
        run.ensure_sending()
