"""An export run: one job from claim to final event, as ``async with pleo.export_run(job)``.

It leases the job (``_journal``), starts or resumes it, hands out the items still to do
(``_reader`` joins them to their export data and journals each batch's intents first), records
the caller's outcomes (``_recorder`` journals and sends them in batches of 100 as it goes), and
posts the final event on exit. Choosing which job to run, and running many, is ``_worker``'s
business.
"""

from __future__ import annotations

import asyncio
import logging
import sys
import uuid
from collections.abc import AsyncGenerator, AsyncIterator, Set
from datetime import datetime
from enum import StrEnum
from types import TracebackType
from typing import Final, Generic, Self, TypeVar

from ._config import (
    DEFAULT_BATCH_CONCURRENCY,
    DEFAULT_FLUSH_INTERVAL,
)
from ._dispatch import (
    DEFAULT_GRACE,
    DEFAULT_MAX_ATTEMPTS,
    DEFAULT_MAX_OUTAGE,
    Dispatch,
    Ending,
    Handler,
)
from ._errors import InvalidTransitionError, LeaseLostError, PleoError
from ._journal import RunJournal, critical
from ._lifecycle import (
    FINAL_STATUSES,
    job_ref,
    status_text,
    transition,
)
from ._observe._hooks import Observer
from ._observe._watch import Scope
from ._outcome import JobRef
from ._port import EntryLike, ExportPort, ItemErrorLike, JobLike
from ._reader import UNFINISHED, PendingReader, RunStats, WorkItem
from ._recorder import Recorder, clip_reason
from ._validation import check_int, check_uuid
from .coordination._memory import InMemoryCoordinator
from .coordination._types import Coordinator, JournalState, new_holder

__all__ = ["ExportRun", "RunStats", "WorkItem", "clip_reason"]

logger: Final = logging.getLogger("pleo_export")

_NO_EXPORT_DATA: Final = "Pleo returned no export data for this accounting entry."

JobT = TypeVar("JobT", bound=JobLike)
ItemT = TypeVar("ItemT", bound=EntryLike)
ExportT = TypeVar("ExportT", bound=EntryLike)


class _State(StrEnum):
    """Where a run is: new → open → (paused) → closed."""

    NEW = "new"
    OPEN = "open"
    PAUSED = "paused"
    CLOSED = "closed"


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
        self.errors: list[ItemErrorLike]
        #: Entries with a job item but no export data; the run reported them failed.
        self.missing_export_data: list[uuid.UUID] = []
        self._port = port
        self._journal = RunJournal(
            InMemoryCoordinator() if coordinator is None else coordinator,
            new_holder() if holder is None else holder,
            None if observer is None else observer.metrics,
        )
        self._recorder = Recorder(
            port,
            self.job_id,
            self._journal,
            self.stats,
            check_open=self._require_open,
            concurrency=concurrency,
            flush_interval=flush_interval,
        )
        self.errors = self._recorder.errors
        self._reported = self._recorder.reported
        self._state = _State.NEW
        self._in_doubt: frozenset[uuid.UUID] = frozenset()
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
        self._recorder.replay(state)
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
                await self._recorder.ride_out_outage()
            elif self._state is _State.CLOSED:  # abort() already ended the job
                await self._recorder.outbox.settle()
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
                    await self._recorder.ride_out_outage()
                    raise outage from None  # no final event: a later run finishes the job
            elif isinstance(exc, Exception):
                self.final_status = await self._recorder.fail_after(exc)
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
        await self._recorder.abort(reason=reason, reason_type=reason_type)
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
        reader = PendingReader(
            self._port,
            self.job_id,
            self._journal,
            self.stats,
            reported=self._reported,
            in_doubt=self._in_doubt,
            check_open=self._require_open,
            check_sending=self._check_sending,
            listed=self._listed,
            missing=self._missing,
        )
        generator = reader.read()
        self._generators.append(generator)
        return generator

    def _listed(self, entries: Set[uuid.UUID]) -> None:
        self._todo = (self._todo or set()) | entries

    def _missing(self, entry: uuid.UUID) -> None:
        self.missing_export_data.append(entry)
        self.failed(entry, reason=_NO_EXPORT_DATA, reason_type="unexpected_failure")

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
        if self._recorder.failure is not None:
            raise self._recorder.failure

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
        self._recorder.succeeded(
            work, external_id=external_id, external_url=external_url, exported_at=exported_at
        )

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
        self._recorder.failed(work, reason=reason, reason_type=reason_type)

    async def flush(self) -> None:
        """Journal and send every recorded outcome now; wait for the batches on their way.

        Raises:
            BatchUpdateError: some batch failed after retries; its outcomes stay buffered and
                are sent again by the next flush (the run's exit flushes too).
            LeaseLostError: the lease was superseded; nothing more is sent.
        """
        await self._recorder.flush()

    def _require_open(self) -> None:
        if self._state not in (_State.OPEN, _State.PAUSED):
            raise PleoError(f"the export run of job {self.job_id} is not open ({self._state})")

    async def _finish(self) -> None:
        """Flush, fail what was never reported, and post the event the outcomes call for."""
        await self.flush()
        if self._todo is None:
            self._todo = set()
            for status in UNFINISHED:
                async for item in self._port.list_items(self.job_id, status=status):
                    self._todo.add(item.accounting_entry_id)
        self.final_status = await self._recorder.finish(self._todo, resumed=self.resumed)
        logger.info("job %s: %s (%s)", self.job_id, self.final_status, self.stats)
