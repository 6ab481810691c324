"""An export run: one job from claim to final event, as ``async with pleo.export_run(job)``.

It leases the job (``_journal``), starts or resumes it, joins the job items still to do with
their export data, journals each batch's intents before handing it out, records the caller's
outcomes into an ``Outbox`` that journals and sends them in batches of 100 as it goes, and posts
the final event on exit. Choosing which job to run, and running many, is ``_worker``'s business.
"""

from __future__ import annotations

import asyncio
import logging
import sys
import uuid
from collections import Counter
from collections.abc import AsyncGenerator, AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from types import TracebackType
from typing import Final, Generic, Self, TypeAlias, TypeVar

from ._batch import BatchResult, Outbox
from ._config import (
    DEFAULT_BATCH_CONCURRENCY,
    DEFAULT_FLUSH_INTERVAL,
    FAILURE_REASON_MAX_CHARS,
    JOURNAL_INTENT_BATCH,
    OUTAGE_RETRY_INITIAL,
    OUTAGE_RETRY_MAX,
)
from ._dispatch import (
    DEFAULT_GRACE,
    DEFAULT_MAX_ATTEMPTS,
    DEFAULT_MAX_OUTAGE,
    Dispatch,
    Ending,
    Handler,
)
from ._errors import InvalidArgumentError, InvalidTransitionError, LeaseLostError, PleoError
from ._files import ItemFile, item_files
from ._journal import RunJournal, critical
from ._lifecycle import (
    FINAL_STATUSES,
    final_event,
    job_failure_type,
    job_failure_type_for,
    job_ref,
    status_text,
    target_status,
    transition,
)
from ._observe._hooks import Observer
from ._observe._watch import Scope
from ._outcome import ItemOutcome, JobRef, OutcomeStatus
from ._port import EntryLike, ExportPort, ItemErrorLike, JobLike
from ._validation import check_int, check_uuid
from .coordination._memory import InMemoryCoordinator
from .coordination._policy import mark_exception_seen
from .coordination._types import Coordinator, JournalState, new_holder

__all__ = ["ExportRun", "RunStats", "WorkItem", "clip_reason"]

logger: Final = logging.getLogger("pleo_export")

_NO_EXPORT_DATA: Final = "Pleo returned no export data for this accounting entry."
_NOT_REPORTED: Final = "The integration ended the export run without reporting this item."
_UNFINISHED: Final = ("pending", "in_progress")

JobT = TypeVar("JobT", bound=JobLike)
ItemT = TypeVar("ItemT", bound=EntryLike)
ExportT = TypeVar("ExportT", bound=EntryLike)
ItemT_co = TypeVar("ItemT_co", bound=EntryLike, covariant=True)
ExportT_co = TypeVar("ExportT_co", bound=EntryLike, covariant=True)


class _State(StrEnum):
    """Where a run is: new → open → (paused) → closed."""

    NEW = "new"
    OPEN = "open"
    PAUSED = "paused"
    CLOSED = "closed"


@dataclass(frozen=True, slots=True)
class WorkItem(Generic[ItemT_co, ExportT_co]):
    """One item still to export: its job item (control layer) and export item (data layer).

    Attributes:
        item: the job item (``ExportJobItemV3``, or ``ExportJobItem`` on v2).
        export_item: the accounting data (``ExportItemV3``, or ``ExportItemV2``).
        in_doubt: True when an earlier run handed this entry out and recorded no outcome (it
            crashed, or was superseded, in between): the entry may already be booked, so look
            it up in the accounting system by ``accounting_entry_id`` before booking it.
        fencing_token: the run's lease token; it grows with every lease of the job, so storing
            it beside a booking tells which run wrote it.
    """

    item: ItemT_co
    export_item: ExportT_co
    in_doubt: bool = False
    fencing_token: int = 0

    @property
    def accounting_entry_id(self) -> uuid.UUID:
        """The accounting entry both halves describe; the key of every outcome."""
        entry: uuid.UUID = self.item.accounting_entry_id
        return entry

    def files(self) -> list[ItemFile]:
        """The export item's files (receipts), tied to this job so that ``pleo.files.read``,
        ``save`` and ``store`` can fetch a fresh URL when one has expired."""
        job_id = getattr(self.item, "export_job_id", None)  # both versions' job items have it
        return item_files(self.export_item, job_id if isinstance(job_id, uuid.UUID) else None)


@dataclass(slots=True)
class RunStats:
    """Counters of an export run.

    Attributes:
        total: items ``pending()`` found still to do (None until it has listed them).
        succeeded: outcomes recorded as successful.
        failed: outcomes recorded as failed, the run's own included (no export data, or not
            reported before a normal exit).
        delivered: items Pleo confirmed as updated.
        flushed_batches: update batches Pleo accepted.
        item_errors: per-item errors Pleo returned (see ``ExportRun.errors``).
        replayed: outcomes an earlier run journaled and this run reported without asking
            the caller again.
        in_doubt: items handed out with ``in_doubt`` set.
    """

    total: int | None = None
    succeeded: int = 0
    failed: int = 0
    delivered: int = 0
    flushed_batches: int = 0
    item_errors: int = 0
    replayed: int = 0
    in_doubt: int = 0


_Ahead: TypeAlias = tuple[list[WorkItem[ItemT, ExportT]], "asyncio.Future[None]"]


def clip_reason(text: str) -> str:
    """A failure reason cut to ``FAILURE_REASON_MAX_CHARS`` (500) characters."""
    if len(text) <= FAILURE_REASON_MAX_CHARS:
        return text
    return text[: FAILURE_REASON_MAX_CHARS - 1] + "…"


class ExportRun(Generic[JobT, ItemT, ExportT]):
    """One export job worked through, from ``started`` to its final event.

    Get one from ``pleo.export_run(job)`` and use it as an async context manager::

        async with pleo.export_run(job) as run:
            async for work in run.pending():
                try:
                    number = await ledger.book(work.export_item)
                except LedgerRefused as exc:
                    run.failed(work, reason=str(exc), reason_type="validation_failure")
                else:
                    run.succeeded(work, external_id=number)

    Entering leases the job and its company on the coordinator (a fencing token, renewed every
    third of ``lease_seconds``), then posts ``started`` for a pending job (the safe way, see
    ``ExportJobs.start``) or resumes an ``in_progress`` one without posting it again; a final
    job is refused. On resume, outcomes an earlier run journaled are reported without offering
    their items again, and items it handed out without an outcome come back with
    ``work.in_doubt``. Each batch of items is journaled as handed out before ``pending()``
    yields it; outcomes are buffered, journaled and sent in batches of 100, or once the oldest
    has waited 30 s, which also keeps the job from expiring. Each entry takes one outcome.

    On a normal exit the buffer is flushed, items listed but never reported are marked failed
    (``unexpected_failure``), and ``completed``, ``completed_with_errors`` or ``failed`` is
    posted as the items' outcomes call for (``final_event``), and the job's journal is purged.
    An exception in the block flushes, fails the job (type from ``job_failure_type_for``) and
    propagates. Cancellation, and ``pause()``, flush and leave the job ``in_progress`` for a
    later run to resume; whatever cancels the exit, every recorded outcome is journaled before
    the lease is released. A run whose lease was superseded (``LeaseLostError``) stops without
    reporting or posting anything more: the newer holder owns the job.

    Without a coordinator the journal is in memory (the client's, shared by its runs): it
    survives a cancelled run, not a crash or a second process; see docs/coordination.md.

    Args:
        port: one API version's ``ExportPort`` (``pleo.v3.export_run`` passes it).
        job: the job id or job model; a model saves one read.
        concurrency: update batches in flight at once (default 4).
        flush_interval: seconds an outcome may wait for its batch to fill (default 30).
        observer: the client's ``Observer``; with tracing on, the run is a span.
        coordinator: where the lease and journal live (``SQLiteCoordinator``,
            ``PostgresCoordinator``…); default a new ``InMemoryCoordinator``.
        holder: the lease holder's name; default a new ``new_holder()``.

    Raises:
        InvalidArgumentError: a bad argument.
        LeaseHeldError: (entering) another holder's live lease is on the job or its company.
    """

    def __init__(
        self,
        port: ExportPort[JobT, ItemT, ExportT],
        job: JobT | uuid.UUID | str,
        *,
        concurrency: int = DEFAULT_BATCH_CONCURRENCY,
        flush_interval: float = DEFAULT_FLUSH_INTERVAL,
        observer: Observer | None = None,
        coordinator: Coordinator | None = None,
        holder: str | None = None,
    ) -> None:
        check_int(concurrency, "concurrency", minimum=1)
        job_id, _ = job_ref(job)
        self.job_id: uuid.UUID = check_uuid(job_id, "job")
        #: The job as read when the run began (None before entering, when given an id).
        self.job: JobT | None = None if isinstance(job, str | uuid.UUID) else job
        #: True when the run picked up a job that was already ``in_progress``.
        self.resumed = False
        #: False when ``started`` got no clear answer and was concluded from a re-read.
        self.claim_confirmed = True
        #: The status the run's final event set, once posted.
        self.final_status: str | None = None
        self.stats = RunStats()
        #: Per-item errors Pleo returned in update responses; those items did not change.
        self.errors: list[ItemErrorLike] = []
        #: Entries with a job item but no export data; the run reported them failed.
        self.missing_export_data: list[uuid.UUID] = []
        self._port = port
        self._journal = RunJournal(
            InMemoryCoordinator() if coordinator is None else coordinator,
            new_holder() if holder is None else holder,
            None if observer is None else observer.metrics,
        )
        job_id_, journal = self.job_id, self._journal
        self._outbox = Outbox(
            lambda batch: journal.report(port.report, job_id_, batch),
            self.job_id,
            self._count,
            concurrency=concurrency,
            flush_interval=flush_interval,
        )
        self._state = _State.NEW
        self._reported: set[uuid.UUID] = set()
        self._in_doubt: frozenset[uuid.UUID] = frozenset()
        self._failure_types: list[str | None] = []
        self._delivered: Counter[str] = Counter()
        self._todo: set[uuid.UUID] | None = None
        self._generators: list[AsyncGenerator[WorkItem[ItemT, ExportT], None]] = []
        self._observer = observer
        self._scope: Scope | None = None

    def __repr__(self) -> str:
        return f"<ExportRun job={self.job_id} state={self._state} {self.stats}>"

    async def __aenter__(self) -> Self:
        self._scope = Scope.open(
            self._observer, "pleo_export.export_run", {"pleo_export.job.id": str(self.job_id)}
        )
        try:
            return await self._enter()
        except BaseException as exc:
            self._close_scope(exc)
            raise

    def _close_scope(self, exc: BaseException | None) -> None:
        if self._scope is not None:
            scope, self._scope = self._scope, None
            scope.close(
                exc,
                {
                    "pleo_export.run.resumed": self.resumed,
                    "pleo_export.run.final_status": self.final_status,
                    "pleo_export.run.succeeded": self.stats.succeeded,
                    "pleo_export.run.failed": self.stats.failed,
                },
            )

    async def _enter(self) -> Self:
        if self._state is not _State.NEW:
            raise PleoError("an ExportRun can be entered only once")
        self._state = _State.CLOSED
        fresh = self.job is None
        if self.job is None:
            self.job = await self._port.get(self.job_id)
        self._refuse_final(self.job)
        await self._journal.acquire(
            JobRef(self.job_id, self.job.company_id, self._port.api_version)
        )
        try:
            if not fresh and status_text(self.job.status) == "in_progress":
                # A listed in_progress job may have finished since it was listed (and its
                # lease been released): resume only what Pleo says is still running now.
                self.job = await self._port.get(self.job_id)
                self._refuse_final(self.job)
            if status_text(self.job.status) == "in_progress":
                self.resumed = True
                logger.info("job %s: resuming (already in_progress)", self.job_id)
            else:  # pending, or a status newer than the SDK: the server decides
                self.claim_confirmed = await transition(self._port, self.job, "started")
            self._resume_from(await self._journal.load())
        except BaseException:
            await critical(self._journal.close(purge=False))
            raise
        self._journal.start_renewing()
        self._state = _State.OPEN
        return self

    def _refuse_final(self, job: JobT) -> None:
        status = status_text(job.status)
        if status in FINAL_STATUSES:
            raise InvalidTransitionError(str(self.job_id), status, "started", ())

    def _resume_from(self, state: JournalState) -> None:
        """Take over what earlier runs journaled: report their outcomes, mark their handed-out
        items in doubt, skip what Pleo confirmed."""
        self._reported |= state.confirmed
        for outcome in state.unconfirmed:
            self._reported.add(outcome.accounting_entry_id)
            self._outbox.add(outcome)
        self.stats.replayed = len(state.unconfirmed)
        self._in_doubt = state.in_doubt
        if not state.is_empty:
            logger.info(
                "job %s: journal holds %d outcome(s) to report, %d item(s) in doubt",
                self.job_id,
                len(state.unconfirmed),
                len(state.in_doubt),
            )

    @property
    def fencing_token(self) -> int:
        """The token of the run's lease on its job (0 before entering)."""
        return self._journal.token

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        try:
            while self._generators:
                await self._generators.pop().aclose()
            if self._journal.lost is not None or isinstance(exc, LeaseLostError):
                logger.warning("job %s: lease lost; left to its new holder", self.job_id)
            elif self._journal.outage is not None:
                await self._ride_out_outage()
            elif self._state is _State.CLOSED:  # abort() already ended the job
                await self._outbox.settle()
            elif exc is None and self._state is _State.PAUSED:
                await self.flush()
                logger.info("job %s: paused; left in_progress to resume later", self.job_id)
            elif exc is None:
                try:
                    await self._finish()
                except PleoError:
                    outage = self._journal.outage
                    if outage is None or self._journal.lost is not None:
                        raise
                    await self._ride_out_outage()
                    raise outage from None  # no final event: a later run finishes the job
            elif isinstance(exc, Exception):
                await self._fail_after(exc)
            else:  # cancelled or interrupted: a graceful stop, not a verdict on the job
                try:
                    await asyncio.shield(self.flush())
                except Exception as flush_exc:
                    logger.warning("job %s: flush on stop failed: %s", self.job_id, flush_exc)
                logger.info("job %s: stopped (%r); left in_progress", self.job_id, exc)
        finally:
            self._state = _State.CLOSED
            # Whatever cancelled the exit: journal every recorded outcome not yet journaled
            # (the next run reports it), then purge a final job or release the lease.
            await critical(self._journal.close(purge=self.final_status is not None))
            self._close_scope(exc or sys.exc_info()[1])  # or what ending the job raised

    async def _ride_out_outage(self) -> None:
        """The journal cannot be written: no final event (booked outcomes may be unreported).
        Keep trying to journal and send what was recorded while the lease is provably held;
        what is left then is logged (ERROR, with entry ids) on close, and the job stays
        ``in_progress`` with those items' intents journaled, so they come back in doubt."""
        logger.error(
            "job %s: the journal failed (%s); stopped handing out, job left in_progress",
            self.job_id,
            self._journal.outage,
        )
        delay = OUTAGE_RETRY_INITIAL
        while self._journal.lost is None:
            try:
                await self.flush()
            except PleoError as exc:
                if not self._journal.provably_held():
                    logger.warning("job %s: flush during the outage failed: %s", self.job_id, exc)
                    return
                await asyncio.sleep(delay)
                delay = min(delay * 2, OUTAGE_RETRY_MAX)
            else:
                return

    def pause(self) -> None:
        """End the run without a final event: on exit it flushes and leaves the job
        ``in_progress``, for this or another process to resume later."""
        if self._state in (_State.OPEN, _State.PAUSED):
            self._state = _State.PAUSED

    async def abort(self, *, reason: str, reason_type: str) -> None:
        """Fail the job now, e.g. when pre-export validation finds the ERP unusable.

        Recorded outcomes are flushed first. The run is over afterwards; exiting the block
        posts nothing more.

        Args:
            reason: free text shown in Pleo.
            reason_type: a job-level ``ExportJobFailureReasonType`` value such as
                ``"accounting_system_unreachable"`` or ``"invalid_configuration"``.

        Raises:
            InvalidArgumentError: an unknown ``reason_type``.
            InvalidStatusChangeError: Pleo refused the event.
        """
        self._require_open()
        try:
            await self.flush()
        except PleoError as exc:
            logger.warning("job %s: flush before abort failed: %s", self.job_id, exc)
        await self._journal.check()
        await transition(
            self._port, self.job_id, "failed", reason=clip_reason(reason), reason_type=reason_type
        )
        self.final_status = "failed"
        self._state = _State.CLOSED

    def pending(self) -> AsyncIterator[WorkItem[ItemT, ExportT]]:
        """Iterate over the items still to export, each with its export data.

        All job items still ``pending`` or ``in_progress`` are listed first (Pleo's advice:
        that filter is what makes a resumed run skip finished items); then the export items
        are streamed and joined to them by accounting entry. An entry Pleo sends no export
        data for is reported failed (``unexpected_failure``) and listed in
        ``missing_export_data``. Entries already recorded in this run are skipped.

        Raises:
            BatchUpdateError: outcomes sent in the background could not be delivered;
                stopping here avoids booking more than Pleo can be told about.
        """
        generator = self._pending()
        self._generators.append(generator)
        return generator

    async def _pending(self) -> AsyncGenerator[WorkItem[ItemT, ExportT], None]:
        self._require_open()
        todo: dict[uuid.UUID, ItemT] = {}
        for status in _UNFINISHED:
            async for item in self._port.list_items(self.job_id, status=status):
                todo.setdefault(item.accounting_entry_id, item)
        self._todo = (self._todo or set()) | set(todo)
        for entry in self._reported:
            todo.pop(entry, None)
        self.stats.total = len(todo)
        logger.info("job %s: %d item(s) to export", self.job_id, len(todo))
        if todo:
            # Each batch's intents are journaled in the background while the batch before it
            # is handed out; a batch is yielded only once its own write has landed.
            batch: list[WorkItem[ItemT, ExportT]] = []
            ahead: _Ahead[ItemT, ExportT] | None = None
            async with self._port.list_export_items(self.job_id) as export_items:
                async for export_item in export_items:
                    job_item = todo.pop(export_item.accounting_entry_id, None)
                    if job_item is None or export_item.accounting_entry_id in self._reported:
                        continue
                    batch.append(self._work(job_item, export_item))
                    if len(batch) >= JOURNAL_INTENT_BATCH or not todo:
                        written = self._journal_ahead(batch)
                        if ahead is not None:
                            async for work in self._hand_out(ahead):
                                yield work
                        ahead, batch = written, []
                    if not todo:
                        break  # the rest of the stream is items finished earlier
                for last in (ahead, self._journal_ahead(batch) if batch else None):
                    if last is not None:
                        async for work in self._hand_out(last):
                            yield work
        for entry in todo:
            if entry not in self._reported:
                logger.warning("job %s: no export data for entry %s", self.job_id, entry)
                self.missing_export_data.append(entry)
                self.failed(entry, reason=_NO_EXPORT_DATA, reason_type="unexpected_failure")

    def _work(self, item: ItemT, export_item: ExportT) -> WorkItem[ItemT, ExportT]:
        doubt = item.accounting_entry_id in self._in_doubt
        self.stats.in_doubt += doubt
        return WorkItem(item, export_item, in_doubt=doubt, fencing_token=self._journal.token)

    def _journal_ahead(self, batch: list[WorkItem[ItemT, ExportT]]) -> _Ahead[ItemT, ExportT]:
        """Start journaling the batch's intents in one write, in the background."""
        self._check_sending()
        write = asyncio.ensure_future(
            self._journal.write([work.accounting_entry_id for work in batch])
        )
        # A failure is raised where the batch is handed out.
        write.add_done_callback(mark_exception_seen)
        return batch, write

    async def _hand_out(
        self, ahead: _Ahead[ItemT, ExportT]
    ) -> AsyncGenerator[WorkItem[ItemT, ExportT], None]:
        """Wait for the batch's intents to be journaled, then yield its items one by one."""
        batch, write = ahead
        await write
        for work in batch:
            self._check_sending()
            if work.accounting_entry_id not in self._reported:
                # No item once the holder's own clock cannot prove the lease (it renews
                # first): a loop blocked past the lease must not book what another now holds.
                await self._journal.ensure_held()
                yield work

    async def ensure_sending(self) -> None:
        """Before handing an item out again (a retry): the lease is provably held, the journal
        writes and Pleo takes outcomes.

        Raises:
            LeaseLostError: the lease was superseded. Also CoordinatorError (the journal
                failed) and BatchUpdateError (Pleo refuses outcomes).
        """
        self._check_sending()
        await self._journal.ensure_held()

    async def process(
        self,
        handler: Handler[ItemT, ExportT],
        *,
        concurrency: int = 1,
        max_attempts: int = DEFAULT_MAX_ATTEMPTS,
        max_outage: float = DEFAULT_MAX_OUTAGE,
        grace: float = DEFAULT_GRACE,
    ) -> Ending:
        """Hand every pending item to ``handler`` and record its answers, ``concurrency`` calls
        at a time (items then complete out of order; 1 keeps their order)::

            async with pleo.export_run(job) as run:
                await run.process(book, concurrency=8)

        ``handler(work)`` returns ``Booked``, ``Rejected`` or ``Retry`` (sync or async). An
        exception is transient: the item is offered again after a back-off with
        ``work.in_doubt`` set (the ERP may have booked it), and fails ``unexpected_failure``
        after ``max_attempts``; ``raise JobAbortedError(...)`` fails the job. Calls failing in a row
        open a breaker (one probe at a time until one succeeds); an outage longer than
        ``max_outage`` seconds fails the job with a job-level reason; the same unclassified
        exception on every item pauses the job (nothing is failed at Pleo). On a cancel, calls
        in flight get ``grace`` seconds to finish, then are cancelled (in doubt next time).

        Returns:
            how it ended: ``Ending.DONE``, ``STOPPED``, ``SYSTEMIC`` (paused) or ``ABORTED``.
        """
        dispatch = Dispatch(
            self,
            handler,
            concurrency=concurrency,
            max_attempts=max_attempts,
            max_outage=max_outage,
            grace=grace,
        )
        return await dispatch.run()

    def _check_sending(self) -> None:
        """Stop handing out items once the lease is lost, the journal fails, or Pleo refuses
        outcomes."""
        if self._journal.lost is not None:
            raise self._journal.lost
        if self._journal.outage is not None:
            raise self._journal.outage
        if self._outbox.failure is not None:
            raise self._outbox.failure

    def succeeded(
        self,
        work: WorkItem[EntryLike, EntryLike] | uuid.UUID | str,
        *,
        external_id: str | None = None,
        external_url: str | None = None,
        exported_at: datetime | None = None,
    ) -> None:
        """Record that an item is in the accounting system (sent with the next batch).

        Args:
            work: the ``WorkItem``, or its accounting entry id.
            external_id: the ERP's id of the booking, e.g. the voucher number.
            external_url: a link to the booking in the ERP.
            exported_at: when it was booked (timezone-aware); default now.

        Raises:
            InvalidArgumentError: the entry already has an outcome in this run (a second
                outcome is a bug in the caller, so it is refused, not ignored), a naive
                ``exported_at``, or a non-string id or URL.
            PleoError: the run is over.
        """
        entry = self._claim(work)
        when = datetime.now(UTC) if exported_at is None else exported_at
        if not isinstance(when, datetime) or when.tzinfo is None:
            raise InvalidArgumentError("exported_at", "expected a timezone-aware datetime")
        for name, value in (("external_id", external_id), ("external_url", external_url)):
            if value is not None and not isinstance(value, str):
                raise InvalidArgumentError(name, f"expected a string, got {value!r}")
        self._record(
            ItemOutcome(
                accounting_entry_id=entry,
                status=OutcomeStatus.SUCCESSFUL,
                external_id=external_id,
                external_url=external_url,
                exported_at=when,
            )
        )
        self.stats.succeeded += 1

    def failed(
        self,
        work: WorkItem[EntryLike, EntryLike] | uuid.UUID | str,
        *,
        reason: str,
        reason_type: str | None = None,
    ) -> None:
        """Record that an item could not be exported (sent with the next batch).

        Args:
            work: the ``WorkItem``, or its accounting entry id.
            reason: what went wrong, in words a user can act on (cut to 500 characters).
            reason_type: an item-level ``ExportJobItemFailureReasonType`` value (18 on v3,
                14 on v2), e.g. ``"vendor_unknown"`` or ``"accounting_system_unreachable"``.

        Raises:
            InvalidArgumentError: the entry already has an outcome in this run, no reason, or
                an unknown ``reason_type``.
            PleoError: the run is over.
        """
        if not isinstance(reason, str) or not reason:
            raise InvalidArgumentError("reason", "a failed item needs a reason")
        entry = self._claim(work)
        self._record(
            ItemOutcome(
                accounting_entry_id=entry,
                status=OutcomeStatus.FAILED,
                failure_reason=clip_reason(reason),
                failure_reason_type=None
                if reason_type is None
                else self._port.check_item_failure_type(reason_type),
            )
        )
        self.stats.failed += 1
        self._failure_types.append(None if reason_type is None else str(reason_type))

    async def flush(self) -> None:
        """Journal and send every recorded outcome now; wait for the batches on their way.

        Raises:
            BatchUpdateError: some batch failed after retries; its outcomes stay buffered and
                are sent again by the next flush (the run's exit flushes too).
            LeaseLostError: the lease was superseded; nothing more is sent.
        """
        try:
            await self._outbox.flush()
        except PleoError:
            if self._journal.lost is not None:
                raise self._journal.lost from None
            raise

    def _require_open(self) -> None:
        if self._state not in (_State.OPEN, _State.PAUSED):
            raise PleoError(f"the export run of job {self.job_id} is not open ({self._state})")

    def _claim(self, work: WorkItem[EntryLike, EntryLike] | uuid.UUID | str) -> uuid.UUID:
        """The entry id of ``work``, refused if it already has an outcome in this run."""
        self._require_open()
        raw = work.accounting_entry_id if isinstance(work, WorkItem) else work
        entry = check_uuid(raw, "work")
        if entry in self._reported:
            raise InvalidArgumentError(
                "work", f"accounting entry {entry} already has an outcome in this run"
            )
        return entry

    def _record(self, outcome: ItemOutcome) -> None:
        self._reported.add(outcome.accounting_entry_id)
        self._journal.note(outcome)
        self._outbox.add(outcome)

    def _count(self, result: BatchResult) -> None:
        """Fold one sent batch's result into the run's counters and errors."""
        self.stats.flushed_batches += result.batches - len(result.failed_batches)
        self.stats.delivered += len(result.updated)
        self._delivered.update(status_text(item.status) for item in result.updated)
        for error in result.errors:
            logger.warning(
                "job %s: Pleo refused the update of entry %s: %s: %s",
                self.job_id,
                error.accounting_entry_id,
                error.type_,
                error.message,
            )
        self.errors.extend(result.errors)
        self.stats.item_errors = len(self.errors)

    async def _finish(self) -> None:
        """Flush, fail what was never reported, and post the event the outcomes call for."""
        await self.flush()
        if self._todo is None:
            self._todo = set()
            for status in _UNFINISHED:
                async for item in self._port.list_items(self.job_id, status=status):
                    self._todo.add(item.accounting_entry_id)
        leftovers = [entry for entry in self._todo if entry not in self._reported]
        if leftovers:
            logger.warning(
                "job %s: %d item(s) were never reported; marking them failed",
                self.job_id,
                len(leftovers),
            )
            for entry in leftovers:
                self.failed(entry, reason=_NOT_REPORTED, reason_type="unexpected_failure")
            await self.flush()
        if self.resumed:  # earlier runs' outcomes count too: ask Pleo
            any_ok = await self._has_items("successful")
            any_failed = bool(self.errors) or await self._has_items("failed")
        else:  # the run started the job, so it saw every outcome
            any_ok = self._delivered["successful"] > 0
            any_failed = bool(self.errors) or self._delivered["failed"] > 0
        event = final_event(any_successful=any_ok, any_failed=any_failed)
        await self._journal.check()
        reason = reason_type = None
        if event == "failed":
            reason = f"None of the job's items could be exported ({self.stats.failed} failed)."
            reason_type = job_failure_type(self._failure_types)
        await transition(self._port, self.job_id, event, reason=reason, reason_type=reason_type)
        self.final_status = target_status(event)
        logger.info("job %s: %s (%s)", self.job_id, self.final_status, self.stats)

    async def _has_items(self, status: str) -> bool:
        page = await self._port.list_items(self.job_id, status=status, limit=1).first_page()
        return bool(page.items)

    async def _fail_after(self, exc: Exception) -> None:
        """The block raised: keep what was recorded, fail the job, let the exception go on."""
        if self._journal.outage is not None:  # the journal failed: not a verdict on the job
            await self._ride_out_outage()
            return
        try:
            await self.flush()
        except Exception as flush_exc:
            logger.warning("job %s: flush after an error failed: %s", self.job_id, flush_exc)
        if self._journal.lost is not None:
            logger.warning("job %s: lease lost; not failing a job another holds", self.job_id)
            return
        reason = clip_reason(f"The export stopped on an error: {type(exc).__name__}: {exc}")
        try:
            await transition(
                self._port,
                self.job_id,
                "failed",
                reason=reason,
                reason_type=job_failure_type_for(exc),
            )
        except Exception as fail_exc:
            logger.error("job %s: could not mark the job failed: %s", self.job_id, fail_exc)
        else:
            self.final_status = "failed"
            logger.info("job %s: failed after %s", self.job_id, type(exc).__name__)
