"""What an export run has recorded, and the final event that calls for.

``Recorder`` checks each outcome the caller records, notes it in the journal and buffers it in
an ``Outbox`` that sends batches of 100 as they fill, and folds Pleo's answers into the run's
counters. At the end it fails what was never reported and posts the event the outcomes call
for, fails the job after an error, or rides out a journal outage. Reading the items still to
do is ``_reader``'s part; leasing, claiming and which ending applies is ``_run``'s.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections import Counter
from collections.abc import Callable, Set
from datetime import UTC, datetime
from typing import Final, Generic, TypeVar

from ._batch import BatchResult, BatchUpdateError, Outbox
from ._config import FAILURE_REASON_MAX_CHARS, OUTAGE_RETRY_INITIAL, OUTAGE_RETRY_MAX
from ._errors import InvalidArgumentError, PleoError
from ._journal import RunJournal
from ._lifecycle import (
    final_event,
    job_failure_type,
    job_failure_type_for,
    status_text,
    target_status,
    transition,
)
from ._outcome import ItemOutcome, OutcomeStatus
from ._port import EntryLike, ExportPort, ItemErrorLike, JobLike
from ._reader import RunStats, WorkItem
from ._validation import check_uuid
from .coordination._types import JournalState

__all__ = ["Recorder", "clip_reason"]

logger: Final = logging.getLogger("pleo_export")

_NOT_REPORTED: Final = "The integration ended the export run without reporting this item."

JobT = TypeVar("JobT", bound=JobLike)
ItemT = TypeVar("ItemT", bound=EntryLike)
ExportT = TypeVar("ExportT", bound=EntryLike)


def clip_reason(text: str) -> str:
    """A failure reason cut to ``FAILURE_REASON_MAX_CHARS`` (500) characters."""
    if len(text) <= FAILURE_REASON_MAX_CHARS:
        return text
    return text[: FAILURE_REASON_MAX_CHARS - 1] + "…"


class Recorder(Generic[JobT, ItemT, ExportT]):
    """One run's outcomes, each entry's once, and its final event.

    Args:
        port: the run's API version.
        job_id: the job.
        journal: the run's journal (each outcome is noted, each batch reported through it).
        stats: the run's counters.
        check_open: raises unless the run takes outcomes now.
        concurrency: update batches in flight at once.
        flush_interval: seconds an outcome may wait for its batch to fill.
    """

    def __init__(
        self,
        port: ExportPort[JobT, ItemT, ExportT],
        job_id: uuid.UUID,
        journal: RunJournal,
        stats: RunStats,
        *,
        check_open: Callable[[], None],
        concurrency: int,
        flush_interval: float,
    ) -> None:
        self._port = port
        self._job_id = job_id
        self._journal = journal
        self._stats = stats
        self._check_open = check_open
        self.outbox = Outbox(
            lambda batch: journal.report(port.report, job_id, batch),
            job_id,
            self._count,
            concurrency=concurrency,
            flush_interval=flush_interval,
        )
        #: Entries with an outcome in this run (replayed ones included).
        self.reported: set[uuid.UUID] = set()
        #: Per-item errors Pleo returned in update responses.
        self.errors: list[ItemErrorLike] = []
        #: The item failure types recorded, for the job's failure reason.
        self.failure_types: list[str | None] = []
        #: Statuses of the items Pleo confirmed as updated.
        self.delivered: Counter[str] = Counter()

    @property
    def failure(self) -> BatchUpdateError | None:
        """The last failed background send, until a flush delivers everything."""
        return self.outbox.failure

    def replay(self, state: JournalState) -> None:
        """Take over an earlier run's journaled outcomes: report them, skip the confirmed."""
        self.reported |= state.confirmed
        for outcome in state.unconfirmed:
            self.reported.add(outcome.accounting_entry_id)
            self.outbox.add(outcome)
        self._stats.replayed = len(state.unconfirmed)

    def succeeded(
        self,
        work: WorkItem[EntryLike, EntryLike] | uuid.UUID | str,
        *,
        external_id: str | None,
        external_url: str | None,
        exported_at: datetime | None,
    ) -> None:
        """Record a booking (see ``ExportRun.succeeded``)."""
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
        self._stats.succeeded += 1

    def failed(
        self,
        work: WorkItem[EntryLike, EntryLike] | uuid.UUID | str,
        *,
        reason: str,
        reason_type: str | None,
    ) -> None:
        """Record a failure (see ``ExportRun.failed``)."""
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
        self._stats.failed += 1
        self.failure_types.append(None if reason_type is None else str(reason_type))

    async def flush(self) -> None:
        """Journal and send every recorded outcome now (see ``ExportRun.flush``)."""
        try:
            await self.outbox.flush()
        except PleoError:
            if self._journal.lost is not None:
                raise self._journal.lost from None
            raise

    def _claim(self, work: WorkItem[EntryLike, EntryLike] | uuid.UUID | str) -> uuid.UUID:
        """The entry id of ``work``, refused if it already has an outcome in this run."""
        self._check_open()
        raw = work.accounting_entry_id if isinstance(work, WorkItem) else work
        entry = check_uuid(raw, "work")
        if entry in self.reported:
            raise InvalidArgumentError(
                "work", f"accounting entry {entry} already has an outcome in this run"
            )
        return entry

    def _record(self, outcome: ItemOutcome) -> None:
        self.reported.add(outcome.accounting_entry_id)
        self._journal.note(outcome)
        self.outbox.add(outcome)

    def _count(self, result: BatchResult) -> None:
        """Fold one sent batch's result into the run's counters and errors."""
        stats = self._stats
        stats.flushed_batches += result.batches - len(result.failed_batches)
        stats.delivered += len(result.updated)
        self.delivered.update(status_text(item.status) for item in result.updated)
        for error in result.errors:
            logger.warning(
                "job %s: Pleo refused the update of entry %s: %s: %s",
                self._job_id,
                error.accounting_entry_id,
                error.type_,
                error.message,
            )
        self.errors.extend(result.errors)
        stats.item_errors = len(self.errors)

    async def finish(self, todo: Set[uuid.UUID], *, resumed: bool) -> str:
        """Fail what of ``todo`` was never reported, post the event the outcomes call for, and
        return the job's final status (see ``ExportRun``)."""
        job_id = self._job_id
        leftovers = [entry for entry in todo if entry not in self.reported]
        if leftovers:
            logger.warning(
                "job %s: %d item(s) were never reported; marking them failed",
                job_id,
                len(leftovers),
            )
            for entry in leftovers:
                self.failed(entry, reason=_NOT_REPORTED, reason_type="unexpected_failure")
            await self.flush()
        if resumed:  # earlier runs' outcomes count too: ask Pleo
            any_ok = await self._has_items("successful")
            any_failed = bool(self.errors) or await self._has_items("failed")
        else:  # the run started the job, so it saw every outcome
            any_ok = self.delivered["successful"] > 0
            any_failed = bool(self.errors) or self.delivered["failed"] > 0
        event = final_event(any_successful=any_ok, any_failed=any_failed)
        await self._journal.check()
        reason = reason_type = None
        if event == "failed":
            reason = f"None of the job's items could be exported ({self._stats.failed} failed)."
            reason_type = job_failure_type(self.failure_types)
        await transition(self._port, job_id, event, reason=reason, reason_type=reason_type)
        return target_status(event)

    async def _has_items(self, status: str) -> bool:
        page = await self._port.list_items(self._job_id, status=status, limit=1).first_page()
        return bool(page.items)

    async def fail_after(self, exc: Exception) -> str | None:
        """The run's block raised: keep what was recorded, fail the job; return ``"failed"``
        once the job is failed, None when it is left as it is."""
        job_id = self._job_id
        if self._journal.outage is not None:  # the journal failed: not a verdict on the job
            await self.ride_out_outage()
            return None
        try:
            await self.flush()
        except Exception as flush_exc:
            logger.warning("job %s: flush after an error failed: %s", job_id, flush_exc)
        if self._journal.lost is not None:
            logger.warning("job %s: lease lost; not failing a job another holds", job_id)
            return None
        reason = clip_reason(f"The export stopped on an error: {type(exc).__name__}: {exc}")
        try:
            await transition(
                self._port, job_id, "failed", reason=reason, reason_type=job_failure_type_for(exc)
            )
        except Exception as fail_exc:
            logger.error("job %s: could not mark the job failed: %s", job_id, fail_exc)
            return None
        logger.info("job %s: failed after %s", job_id, type(exc).__name__)
        return "failed"

    async def abort(self, *, reason: str, reason_type: str) -> None:
        """Flush, then fail the job (see ``ExportRun.abort``)."""
        try:
            await self.flush()
        except PleoError as exc:
            logger.warning("job %s: flush before abort failed: %s", self._job_id, exc)
        await self._journal.check()
        await transition(
            self._port, self._job_id, "failed", reason=clip_reason(reason), reason_type=reason_type
        )

    async def ride_out_outage(self) -> None:
        """The journal cannot be written: no final event (booked outcomes may be unreported).
        Keep trying to journal and send what was recorded while the lease is provably held;
        what is left then is logged (ERROR, with entry ids) on close, and the job stays
        ``in_progress`` with those items' intents journaled, so they come back in doubt."""
        journal = self._journal
        logger.error(
            "job %s: the journal failed (%s); stopped handing out, job left in_progress",
            self._job_id,
            journal.outage,
        )
        delay = OUTAGE_RETRY_INITIAL
        while journal.lost is None:
            try:
                await self.flush()
            except PleoError as exc:
                if not journal.provably_held():
                    logger.warning("job %s: flush during the outage failed: %s", self._job_id, exc)
                    return
                await asyncio.sleep(delay)
                delay = min(delay * 2, OUTAGE_RETRY_MAX)
            else:
                return
