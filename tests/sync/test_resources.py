"""Every sync resource method against the fake, in-process and over loopback TCP (the
``sync_pleo`` fixture runs each test on both). Each test compares what the sync call returns
with the fake's own state, so a sync method that dropped an argument, returned the wrong
object or skipped the await would fail here."""

from __future__ import annotations

import threading
import uuid
import warnings
from collections.abc import Sequence
from pathlib import Path

import pytest

from pleo_export import (
    ExportNotFoundError,
    InvalidArgumentError,
    InvalidStatusChangeError,
)
from pleo_export.models import ExportJobV3
from pleo_export.sync import Booked, ExportWorker, Page, PleoExport, WorkItem, with_response
from pleo_export.testing import DEFAULT_API_KEY, FakePleo


def test_jobs_list_get_and_filters(sync_pleo: PleoExport, fake_pleo: FakePleo) -> None:
    ids = {fake_pleo.add_job(items=3) for _ in range(5)}
    running = fake_pleo.add_job(items=3, status="in_progress")
    listed = list(sync_pleo.jobs.list(limit=2))  # three pages of two, cursors followed
    assert {str(job.id) for job in listed} == ids | {running}
    assert all(isinstance(job, ExportJobV3) for job in listed)
    pending = list(sync_pleo.jobs.list(statuses=["pending"]))
    assert {str(job.id) for job in pending} == ids
    assert len(list(sync_pleo.jobs.list(max_items=4, limit=3))) == 4  # the budget is kept
    job = sync_pleo.jobs.get(running)
    assert str(job.id) == running
    assert job.status == "in_progress"
    with pytest.raises(ExportNotFoundError):
        sync_pleo.jobs.get(uuid.uuid4())
    with pytest.raises(InvalidArgumentError):  # raised by list() itself, before iterating
        sync_pleo.jobs.list(limit=0)
    # the async list() checks the paging keywords before the sync pager reads them (a
    # TypeError from comparing "4" with the page size before, as ``_chunk`` ran first)
    with pytest.raises(InvalidArgumentError, match="max_items"):
        sync_pleo.jobs.list(max_items="4")  # type: ignore[arg-type]


def test_pages_and_first_page(sync_pleo: PleoExport, fake_pleo: FakePleo) -> None:
    job_id = fake_pleo.add_job(items=45)
    pages = list(sync_pleo.job_items.list(job_id, limit=20).pages())
    assert [len(page) for page in pages] == [20, 20, 5]
    assert all(isinstance(page, Page) for page in pages)
    first = sync_pleo.export_items.list(job_id, limit=10).first_page()
    assert len(first.items) == 10
    assert first.has_next_page
    # Resuming from a stored cursor reads on from there.
    rest = list(sync_pleo.export_items.list(job_id, after=first.end_cursor))
    assert len(rest) == 35


def test_transitions(sync_pleo: PleoExport, fake_pleo: FakePleo) -> None:
    done, errors, failed = (fake_pleo.add_job(items=2) for _ in range(3))
    for job_id in (done, errors, failed):
        assert sync_pleo.jobs.start(job_id) is True
    sync_pleo.jobs.complete(done)
    sync_pleo.jobs.complete_with_errors(errors)
    sync_pleo.jobs.fail(failed, reason="ERP down", reason_type="accounting_system_unreachable")
    assert [fake_pleo.job(j)["status"] for j in (done, errors, failed)] == [
        "completed",
        "completed_with_errors",
        "failed",
    ]
    with pytest.raises(InvalidStatusChangeError):
        sync_pleo.jobs.post_event(done, "started")


def test_create_and_post_event(sync_pleo: PleoExport, fake_pleo: FakePleo) -> None:
    company = fake_pleo.add_company()
    job = sync_pleo.jobs.create(company_id=company, accounting_entry_ids=[uuid.uuid4()])
    assert fake_pleo.job(str(job.id))["status"] == "pending"
    sync_pleo.jobs.post_event(job.id, "started")
    assert fake_pleo.job(str(job.id))["status"] == "in_progress"


def test_job_items_update_update_all_and_lookup(sync_pleo: PleoExport, fake_pleo: FakePleo) -> None:
    job_id = fake_pleo.add_job(items=150)
    sync_pleo.jobs.start(job_id)
    entries = fake_pleo.accounting_entry_ids(job_id)
    one = {"accountingEntryId": entries[0], "status": "successful", "externalId": "V-1"}
    result = sync_pleo.job_items.update(job_id, [one])
    assert len(result.data) == 1
    rest = [{"accountingEntryId": e, "status": "successful"} for e in entries[1:]]
    batch = sync_pleo.job_items.update_all(job_id, rest, concurrency=2)
    assert batch.ok
    assert len(batch.updated) == 149
    assert batch.batches == 2
    assert fake_pleo.item_status_counts(job_id) == {"successful": 150}
    assert "vendor_unknown" in {t.value for t in sync_pleo.job_items.item_failure_types}
    company = fake_pleo.job(job_id)["companyId"]
    item = sync_pleo.v3.job_items.get_by_accounting_entry(
        company_id=company, accounting_entry_id=entries[3]
    )
    assert str(item.accounting_entry_id) == entries[3]


def test_files_of_read_save_store(
    sync_pleo: PleoExport, fake_pleo: FakePleo, tmp_path: Path
) -> None:
    job_id = fake_pleo.add_job(items=20)
    files = [
        file
        for item in sync_pleo.export_items.list(job_id)
        for file in sync_pleo.files.of(item, job_id=job_id)
    ]
    assert files
    got = sync_pleo.files.read(files[0])
    assert got.content == fake_pleo.file_content(files[0].url)
    saved = sync_pleo.files.save(files[0], tmp_path / "receipt")
    assert (tmp_path / "receipt").read_bytes() == got.content
    assert saved.sha256 == got.sha256
    stored = sync_pleo.files.store(files[0], tmp_path / "store")
    assert stored.path is not None
    assert stored.path.name.startswith(got.sha256)


def test_export_run_records_and_finishes(sync_pleo: PleoExport, fake_pleo: FakePleo) -> None:
    job_id = fake_pleo.add_job(items=130)
    with sync_pleo.export_run(job_id) as run:
        for n, work in enumerate(run.pending()):
            if n % 10 == 0:
                run.failed(work, reason="no vendor", reason_type="vendor_unknown")
            else:
                run.succeeded(work, external_id=f"V-{n}")
            if n == 50:
                run.flush()  # half-way: what was recorded is in Pleo now
                assert fake_pleo.item_status_counts(job_id).get("successful", 0) >= 45
    assert run.final_status == "completed_with_errors"
    assert run.stats.succeeded == 117
    assert run.stats.failed == 13
    assert fake_pleo.item_status_counts(job_id) == {"successful": 117, "failed": 13}


def test_export_run_pause_and_abort(sync_pleo: PleoExport, fake_pleo: FakePleo) -> None:
    paused, aborted = fake_pleo.add_job(items=5), fake_pleo.add_job(items=5)
    with sync_pleo.export_run(paused) as run:
        work = next(iter(run.pending()))
        run.succeeded(work)
        run.pause()
    assert run.final_status is None
    assert fake_pleo.job(paused)["status"] == "in_progress"
    with sync_pleo.export_run(aborted) as run:
        run.abort(reason="ERP refused the login", reason_type="invalid_configuration")
    assert fake_pleo.job(aborted)["status"] == "failed"


def test_export_run_block_raising_fails_the_job(sync_pleo: PleoExport, fake_pleo: FakePleo) -> None:
    """An exception in the ``with`` block reaches the async run's exit as it is."""
    job_id = fake_pleo.add_job(items=3)

    def export() -> None:
        with sync_pleo.export_run(job_id) as run:
            for _ in run.pending():
                raise RuntimeError("ledger exploded")

    with pytest.raises(RuntimeError, match="ledger"):
        export()
    assert fake_pleo.job(job_id)["status"] == "failed"


def test_with_options_and_with_response(sync_pleo: PleoExport, fake_pleo: FakePleo) -> None:
    job_id = fake_pleo.add_job(items=3)
    view = sync_pleo.with_options(timeout=30, max_retries=0, headers={"X-Trace": "t1"})
    job, meta = with_response(view.jobs.get, job_id)
    assert str(job.id) == job_id
    assert meta.status_code == 200
    assert meta.url_template == "/v3/export-jobs/{jobId}"
    page, meta = with_response(view.jobs.list(max_items=1).first_page)
    assert len(page.items) == 1
    assert meta.method == "GET"
    view.close()  # a view closes nothing: the client still works
    assert sync_pleo.jobs.get(job_id).id == job.id
    with pytest.raises(InvalidArgumentError):
        sync_pleo.with_options(max_retries=-1)


def test_v2_namespace_and_v2_client(fake_pleo: FakePleo, tcp_url: str) -> None:
    job_id = fake_pleo.add_job(items=25)
    with PleoExport(api_key=DEFAULT_API_KEY, base_url=tcp_url, api_version="v2") as pleo:
        assert pleo.jobs.get(job_id).status == "pending"
        assert len(list(pleo.export_items.list(job_id))) == 25
        with pleo.export_run(job_id) as run:
            for work in run.pending():
                run.succeeded(work)
        assert run.final_status == "completed"
        other = fake_pleo.add_job(items=2)
        assert len(list(pleo.v2.job_items.list(other, status="pending"))) == 2
        assert pleo.v3.jobs.get(other).status == "pending"


def test_run_properties_post_event_call_and_notify(
    sync_pleo: PleoExport, fake_pleo: FakePleo
) -> None:
    """The rest of the sync surface: a run's read-only properties, ``post_event``,
    ``update_concurrency`` on a version's ``export_run``, ``pleo.call`` for async-only objects,
    ``worker.notify``."""
    job_id = fake_pleo.add_job(items=3)
    with sync_pleo.v3.export_run(job_id, update_concurrency=2) as run:
        assert str(run.job_id) == job_id
        assert run.job is not None
        assert str(run.job.id) == job_id
        assert run.resumed is False
        assert run.claim_confirmed is True
        assert run.fencing_token > 0
        for work in run.pending():
            run.succeeded(work)
    assert run.errors == []
    assert run.missing_export_data == []
    assert run.stats.succeeded == 3
    other = fake_pleo.add_job(items=1)
    sync_pleo.jobs.post_event(other, "started")
    assert fake_pleo.job(other)["status"] == "in_progress"

    async def add(a: int, b: int) -> int:
        return a + b

    assert sync_pleo.call(add, 2, b=3) == 5
    worker = ExportWorker(sync_pleo, lambda work: Booked(), poll_interval=30)
    worker.notify(other)  # the hint is taken: the next poll reads that job directly
    with pytest.raises(InvalidArgumentError):
        worker.notify("not-a-uuid")


@pytest.mark.parametrize("batch_size", [None, 7])
def test_export_run_process_with_a_plain_handler(
    batch_size: int | None, sync_pleo: PleoExport, fake_pleo: FakePleo
) -> None:
    """``run.process`` drives the async engine with a plain function (one item or a batch)
    in the run's thread pool, ``concurrency`` calls at once; every item is answered once.
    Without the pool the handler would run on the loop thread; without ``batch_size``
    passed through it would be given one item instead of a batch."""
    job_id = fake_pleo.add_job(items=30)
    threads: set[str] = set()
    sizes: list[int] = []
    lock = threading.Lock()

    def book(work: WorkItem[object, object]) -> Booked:
        with lock:
            threads.add(threading.current_thread().name)
            sizes.append(1)
        return Booked(external_id=str(work.accounting_entry_id)[:8])

    def book_many(batch: Sequence[WorkItem[object, object]]) -> list[Booked]:
        with lock:
            threads.add(threading.current_thread().name)
            sizes.append(len(batch))
        return [Booked() for _ in batch]

    with sync_pleo.export_run(job_id) as run:
        if batch_size is None:
            ending = run.process(book, concurrency=3)
        else:
            ending = run.process(book_many, batch_size=batch_size, concurrency=2)
    assert ending == "done"
    assert run.final_status == "completed"
    assert fake_pleo.item_status_counts(job_id) == {"successful": 30}
    assert sum(sizes) == 30
    assert max(sizes) == (1 if batch_size is None else batch_size)
    assert all(name.startswith("pleo-export-handler") for name in threads)


def test_export_run_concurrency_is_the_deprecated_name_warned_at_the_callers_line(
    sync_pleo: PleoExport, fake_pleo: FakePleo
) -> None:
    """As in async: ``concurrency=`` on ``pleo.export_run`` and ``pleo.v3.export_run`` warns at
    the caller's line (not on the loop's thread, not inside the SDK), even with the default's
    value; ``update_concurrency=`` warns of nothing. Passing the old name on to the loop, or a
    default that is the old name's, fails this."""
    job_id = fake_pleo.add_job(items=1)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        sync_pleo.export_run(job_id, update_concurrency=2)
        sync_pleo.v3.export_run(job_id, update_concurrency=2)
        sync_pleo.export_run(job_id)
    with pytest.warns(DeprecationWarning, match="update_concurrency=") as caught:
        sync_pleo.export_run(job_id, concurrency=4)
    with pytest.warns(DeprecationWarning, match="update_concurrency=") as caught_too:
        sync_pleo.v3.export_run(job_id, concurrency=2)
    assert [Path(w.filename).name for w in [*caught, *caught_too]] == ["test_resources.py"] * 2
    with pytest.raises(InvalidArgumentError, match="update_concurrency"):
        sync_pleo.export_run(job_id, concurrency=2, update_concurrency=3)
