"""The public API used the way the README shows it, checked by ``mypy --strict`` (never run).

Each ``assert_type`` pins what a user's editor and type checker see. Check it with:

    .venv/bin/mypy --strict tests/typing/api_usage.py
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from decimal import Decimal
from typing import assert_type

import httpx
from pleo_export_raw.api.export_api_v_1 import get_export_job_by_id_v1, get_export_jobs_list_v1

from pleo_export import (
    ApiKeyAuth,
    BatchAnswer,
    BearerAuth,
    Booked,
    Cursor,
    DownloadedFile,
    ExportAlreadyInProgressError,
    ExportNotFoundError,
    ExportWorker,
    FileDownloadError,
    FileTooLargeError,
    InvalidArgumentError,
    InvalidStatusChangeError,
    ItemFile,
    JobFinishedError,
    Page,
    Pager,
    PaginationError,
    PagingOptions,
    PleoError,
    PleoExport,
    RateLimitError,
    Rejected,
    ResponseInfo,
    ResponseMeta,
    Retry,
    RetryInfo,
    RetryPolicy,
    ServerError,
    WorkItem,
    with_response,
)
from pleo_export.accounting import (
    Journal,
    JournalLine,
    LedgerAccounts,
    LineKind,
    Unmappable,
    UnmappableReason,
    journal,
)
from pleo_export.coordination import (
    Coordinator,
    ItemOutcome,
    JobRef,
    JournalState,
    Lease,
    LeaseHeld,
    LeaseLostError,
    OutcomeStatus,
    PostgresCoordinator,
    SQLiteCoordinator,
    new_holder,
)
from pleo_export.models import (
    UNSET,
    ExportItemLineV3,
    ExportItemV2,
    ExportItemV3,
    ExportJob,
    ExportJobItem,
    ExportJobItemStatus,
    ExportJobItemUpdate,
    ExportJobItemUpdateV3,
    ExportJobItemV3,
    ExportJobStatus,
    ExportJobV3,
    MoneyModel,
    TaxV3,
    Unset,
    UpdateExportJobItem,
    UpdateExportJobItemStatus,
    UpdateExportJobItemV3,
)
from pleo_export.money import Money
from pleo_export.otel import instrument

COMPANY = "6f1c2f0e-9a55-4c3e-8a51-0c2f3f4a5b6c"


def construct() -> list[PleoExport]:
    """Every documented way to build a client."""

    def token() -> str:
        return "fresh-token"

    async def token_async() -> str:
        return "fresh-token"

    return [
        PleoExport(),  # PLEO_API_KEY or PLEO_BEARER_TOKEN from the environment
        PleoExport(api_key="key", environment="staging"),
        PleoExport(bearer_token="token", base_url="http://127.0.0.1:8080"),
        PleoExport(bearer_token=token, max_retries=5, timeout=30.0),
        PleoExport(bearer_token=token_async, retry=RetryPolicy(max_retries=2, retry_after_max=10)),
        PleoExport(auth=ApiKeyAuth("key"), timeout=httpx.Timeout(10.0), prefetch=0),
        PleoExport(auth=BearerAuth(token), default_headers={"X-Team": "ledger"}),
        PleoExport(http_client=httpx.AsyncClient(), api_version="v2"),
    ]


async def detect_pending_jobs() -> None:
    """List the oldest pending jobs, page by page and item by item."""
    async with PleoExport(api_key="key") as pleo:
        async for job in pleo.jobs.list(company_id=COMPANY, statuses=["pending"], max_items=1):
            assert_type(job, ExportJobV3 | ExportJob)
            print(job.id, job.status, job.created_at)

        pager = pleo.jobs.list(statuses=[ExportJobStatus.PENDING, ExportJobStatus("archived")])
        assert_type(pager, Pager[ExportJobV3] | Pager[ExportJob])
        async with pager:
            first = await pager.first_page()
            print(first.total, first.end_cursor, len(first))

        async for job_v3 in pleo.jobs.list(sorting_keys=["createdAt"], sorting_order=["ASC"]):
            if isinstance(job_v3, ExportJobV3):
                print(job_v3.number_of_items)

        v2_job = await pleo.v2.jobs.get(uuid.uuid4())
        assert_type(v2_job, ExportJob)


async def checkpointed_worker(job_id: str, saved_cursor: str | None) -> str | None:
    """Walk a job's items a page at a time, keeping the cursor to resume after a crash."""
    checkpoint = saved_cursor
    async with PleoExport(api_key="key") as pleo:
        async for page in pleo.v2.job_items.list(job_id, after=checkpoint, limit=50).pages():
            assert_type(page, Page[ExportJobItem])
            for item in page.items:
                print(item.accounting_entry_id, item.status)
            checkpoint = page.end_cursor
            assert_type(checkpoint, str | None)
        paging: PagingOptions = {"limit": 50, "max_items": 10}  # a wrapper passes them on
        assert_type(pleo.v3.export_items.list(job_id, **paging), Pager[ExportItemV3])
        pleo.v3.jobs.list(limit="50")  # type: ignore[arg-type]
        async for v3_item in pleo.job_items.list(job_id, status="pending"):
            print(v3_item)
    return checkpoint


async def export_one_job(job_id: uuid.UUID) -> None:
    """Start a job, read its data, report outcomes in batches of up to 100, and complete it."""
    async with PleoExport(api_key="key") as pleo:
        try:
            await pleo.jobs.post_event(job_id, "started")
        except InvalidStatusChangeError as exc:
            print("someone else started it", exc.actual_status)
            return

        async for data in pleo.export_items.list(job_id, prefetch=2):
            assert_type(data, ExportItemV3 | ExportItemV2)

        updates: list[UpdateExportJobItemV3] = [
            UpdateExportJobItemV3(
                accounting_entry_id=uuid.uuid4(),
                status=ExportJobItemStatus.SUCCESSFUL,
                external_id="INV-1",
            )
        ]
        # ``pleo.job_items`` is typed ``JobItemsV3 | JobItemsV2`` (api_version picks at run
        # time); ``pleo.v3`` is the exactly typed v3 namespace.
        result = await pleo.v3.job_items.update(job_id, updates)
        assert_type(result, ExportJobItemUpdateV3)
        v2_result = await pleo.v2.job_items.update(
            job_id,
            [
                UpdateExportJobItem(
                    accounting_entry_id=uuid.uuid4(), status=UpdateExportJobItemStatus.SUCCESSFUL
                )
            ],
        )
        assert_type(v2_result, ExportJobItemUpdate)
        failed = await pleo.job_items.update(
            job_id,
            [{"accountingEntryId": str(uuid.uuid4()), "status": "failed", "failureReason": "x"}],
        )
        for error in failed.errors:
            print(error.accounting_entry_id, error.message)

        await pleo.jobs.post_event(job_id, "completed", retry=True)


async def errors_and_raw(job_id: uuid.UUID) -> None:
    """Catch the typed errors, and reach v1 operations through the same pool."""
    async with PleoExport(api_key="key") as pleo:
        try:
            job = await pleo.jobs.get(job_id)
        except ExportNotFoundError as exc:
            print(exc.status_code, exc.type, exc.message, exc.request_id, exc.body_snippet)
        except (RateLimitError, ServerError) as exc:
            print("gave up after retries", exc.status_code)
        except PleoError as exc:
            print("anything else from the SDK", exc)
        else:
            if not isinstance(job.failure_reason, Unset):
                print(job.failure_reason)
            print(job.failure_reason is UNSET)

        try:
            await pleo.jobs.create(company_id=COMPANY, accounting_entry_ids=[uuid.uuid4()])
        except ExportAlreadyInProgressError:
            pass
        except JobFinishedError:
            pass

        try:
            pleo.jobs.list(after="ABC", offset=3)
        except InvalidArgumentError as bad:
            assert_type(bad.argument, str)

        legacy = await get_export_job_by_id_v1.asyncio(job_id, client=pleo.raw)
        print(legacy)
        async for old in pleo.paginate(get_export_jobs_list_v1, limit=20, max_items=100):
            print(old)

        pager: Pager[int]

        async def fetch(cursor: Cursor) -> Page[int]:
            return Page([1, 2], False, False, None, None, 2)

        pager = Pager(fetch, start=Cursor(after="ABC"), prefetch=1)
        try:
            numbers = [n async for n in pager]
            assert_type(numbers, list[int])
        except PaginationError:
            pass


async def observability(job_id: uuid.UUID) -> None:
    """Per-call options, response metadata, hooks and OpenTelemetry, typed end to end."""

    def on_retry(info: RetryInfo) -> None:
        assert_type(info.reason, str)

    async def on_response(info: ResponseInfo) -> None:
        assert_type(info.status_code, int | None)

    async with PleoExport(api_key="k", on_retry=on_retry, on_response=on_response) as pleo:
        view = pleo.with_options(timeout=300, max_retries=0, headers={"X-Trace": "1"})
        assert_type(view, PleoExport)
        job, meta = await with_response(view.v3.jobs.get, job_id)
        assert_type(job, ExportJobV3)
        assert_type(meta, ResponseMeta)
        assert_type(meta.request_id, str | None)
        page, _ = await with_response(pleo.v3.jobs.list().first_page)
        assert_type(page, Page[ExportJobV3])
        instrument(pleo, tracer_provider=None, meter_provider=None)


async def receipts(job_id: uuid.UUID, folder: str) -> None:
    async with PleoExport(api_key="k", max_file_size=10_000_000, file_concurrency=2) as pleo:
        async with pleo.export_run(job_id) as run:
            async for work in run.pending():
                files = work.files()
                assert_type(files, list[ItemFile])
                try:
                    stored = [await pleo.files.store(file, folder) for file in files]
                except FileTooLargeError as big:
                    run.failed(work, reason=str(big), reason_type=big.failure_type)
                    continue
                except FileDownloadError as failed:
                    assert_type(failed.failure_type, str)
                    run.failed(work, reason=str(failed), reason_type=failed.failure_type)
                    continue
                assert_type(stored, list[DownloadedFile])
                run.succeeded(work, external_id=",".join(f.sha256 for f in stored))
        async for item in pleo.v3.export_items.list(job_id):
            for file in pleo.files.of(item, job_id=job_id):
                got = await pleo.files.read(file)
                assert_type(got.content, bytes | None)
                assert_type(got.media_type, str)


async def main_loop_v3() -> None:
    """The README's main loop under ``pleo.v3``: every object it hands out is exactly typed."""
    async with PleoExport(api_key="key") as pleo:
        async for job in pleo.v3.jobs.list(statuses=["pending"]):
            assert_type(job, ExportJobV3)
            async with pleo.v3.export_run(job) as run:
                async for work in run.pending():
                    assert_type(work, WorkItem[ExportJobItemV3, ExportItemV3])
                    assert_type(work.item, ExportJobItemV3)
                    assert_type(work.export_item, ExportItemV3)
                    assert_type(work.export_item.accounting_entry_lines, list[ExportItemLineV3])
                    assert_type(work.accounting_entry_id, uuid.UUID)
                    run.succeeded(work, external_id="JE-1")
        async for page in pleo.v3.export_items.list(COMPANY).pages():
            assert_type(page.items, Sequence[ExportItemV3])


async def main_loop_default() -> None:
    """The default client picks its version at run time, so the loop is typed as either."""
    async with PleoExport(api_key="key") as pleo:
        async for job in pleo.jobs.list(statuses=["pending"]):
            async with pleo.export_run(job) as run:
                async for work in run.pending():
                    assert_type(
                        work,
                        WorkItem[ExportJobItemV3, ExportItemV3]
                        | WorkItem[ExportJobItem, ExportItemV2],
                    )
                    assert_type(work.export_item, ExportItemV3 | ExportItemV2)
                    run.failed(work, reason="vendor unknown", reason_type="vendor_unknown")


async def worker_handlers(journal: Coordinator) -> None:
    """A v3 worker's handler receives a ``WorkItem`` of v3 types; the default client's either."""

    def book_v3(work: WorkItem[ExportJobItemV3, ExportItemV3]) -> Booked:
        assert_type(work.export_item.accounting_entry_lines, list[ExportItemLineV3])
        assert_type(work.in_doubt, bool)
        assert_type(work.fencing_token, int)
        return Booked(external_id=str(work.accounting_entry_id))

    async def book_any(
        work: WorkItem[ExportJobItemV3 | ExportJobItem, ExportItemV3 | ExportItemV2],
    ) -> Booked | Rejected:
        return Rejected("no ledger") if work.export_item.note else Booked()

    async with PleoExport(api_key="key") as pleo:
        v3_worker = ExportWorker(pleo.v3, book_v3, coordinator=journal)
        assert_type(v3_worker, ExportWorker[ExportItemV3])
        v2_worker = ExportWorker(pleo.v2, lambda w: Booked(external_id=w.export_item.type_))
        assert_type(v2_worker, ExportWorker[ExportItemV2])
        any_worker = ExportWorker(pleo, book_any)
        assert_type(any_worker, ExportWorker[ExportItemV3 | ExportItemV2])
        async with pleo.v3.export_run(COMPANY, coordinator=journal) as run:
            assert_type(run.fencing_token, int)
        await v3_worker.run(until_idle=True)


async def coordinated(job: JobRef, entry: uuid.UUID, dsn: str | None) -> None:
    """A lease, the journal's writes and its resume state, on either durable coordinator."""
    coordinator: Coordinator = (
        PostgresCoordinator(dsn, lease_seconds=30.0, schema="pleo_export")
        if dsn
        else SQLiteCoordinator("journal.db", lease_seconds=30.0)
    )
    lease = await coordinator.acquire(job, new_holder())
    if isinstance(lease, LeaseHeld):
        assert_type(lease.holder, str)
        return
    assert_type(lease, Lease)
    assert_type(lease.token, int)
    try:
        await coordinator.write(lease, intents=[entry])
        outcome = ItemOutcome(entry, OutcomeStatus.SUCCESSFUL, external_id="ERP-1")
        await coordinator.write(lease, outcomes=[outcome])
        await coordinator.confirm(lease, [entry])
        state = await coordinator.load(lease)
        assert_type(state, JournalState)
        assert_type(state.unconfirmed, tuple[ItemOutcome, ...])
        assert_type(state.in_doubt, frozenset[uuid.UUID])
    except LeaseLostError as lost:
        assert_type(lost.token, int)
    finally:
        await coordinator.release(lease)
        await coordinator.aclose()


def money_and_journal(item: ExportItemV3) -> Booked | Rejected:
    """Amounts are ints of minor units, rates Decimals, and the journal is typed line by line
    (a float on a money or rate field would fail these ``assert_type`` checks)."""
    paid = item.amount.in_wallet_currency
    assert_type(paid, MoneyModel)
    assert_type(paid.value, int)
    money = Money.of(paid)
    assert_type(money.amount, Decimal)
    assert_type(money.minor, int)
    assert_type(money + Money(100, "DKK"), Money)
    for line in item.accounting_entry_lines:
        assert_type(line.net_amount.in_wallet_currency.value, int)
        if isinstance(line.tax, TaxV3):
            assert_type(line.tax.rate, Decimal)
            assert_type(line.tax.amount.in_wallet_currency.value, int)
    entry = journal(item, LedgerAccounts(employee="2820", payable="2400"))
    assert_type(entry, Journal | Unmappable)
    if isinstance(entry, Unmappable):
        assert_type(entry.reason, UnmappableReason)
        assert_type(entry.failure_type, str)
        return entry.rejected()
    for journal_line in entry.lines:
        assert_type(journal_line, JournalLine)
        assert_type(journal_line.kind, LineKind)
        assert_type(journal_line.debit, int)
        assert_type(journal_line.amount, Money)
    assert_type(entry.balance, Money)
    return Booked(external_id=str(entry.accounting_entry_id))


async def batch_handlers(journal: Coordinator) -> None:
    """A batch handler (``batch_size=``) gets a sequence of ``WorkItem`` and answers by entry
    id or in order; a batch handler without ``batch_size``, or a single-item handler with it,
    is a type error."""

    async def by_entry(
        batch: Sequence[WorkItem[ExportJobItemV3, ExportItemV3]],
    ) -> dict[uuid.UUID, Booked | Retry]:
        return {work.accounting_entry_id: Booked() for work in batch}

    def in_order(
        batch: Sequence[WorkItem[ExportJobItemV3 | ExportJobItem, ExportItemV3 | ExportItemV2]],
    ) -> list[Booked | Rejected]:
        return [Rejected("no ledger") if work.in_doubt else Booked() for work in batch]

    async def any_answer(batch: Sequence[WorkItem[ExportJobItemV3, ExportItemV3]]) -> BatchAnswer:
        return [Retry(1.0, "ERP busy")] * len(batch)

    def book_one(work: WorkItem[ExportJobItemV3, ExportItemV3]) -> Booked:
        return Booked()

    async with PleoExport(api_key="key") as pleo:
        v3_worker = ExportWorker(pleo.v3, by_entry, batch_size=50, concurrency=4)
        assert_type(v3_worker, ExportWorker[ExportItemV3])
        assert_type(v3_worker.batch_size, int | None)
        any_worker = ExportWorker(pleo, in_order, batch_size=10, coordinator=journal)
        assert_type(any_worker, ExportWorker[ExportItemV3 | ExportItemV2])
        ExportWorker(pleo.v3, by_entry)  # type: ignore[arg-type]
        ExportWorker(pleo.v3, book_one, batch_size=50)  # type: ignore[arg-type]
        async with pleo.v3.export_run(COMPANY, coordinator=journal) as run:
            await run.process(any_answer, batch_size=25, concurrency=2)
            await run.process(book_one, concurrency=8)
            await run.process(any_answer)  # type: ignore[arg-type]
            await run.process(book_one, batch_size=25)  # type: ignore[arg-type]
