"""What an export run has still to do: its work items, read and journaled ahead.

``PendingReader`` lists a job's unfinished items, streams the export data and joins the two by
accounting entry into ``WorkItem`` values; each batch's intents are journaled (in the
background, while the batch before it is handed out) before any of its items is yielded.
Recording outcomes is ``_recorder``'s part, the run's lifecycle ``_run``'s.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import AsyncGenerator, Callable, Set
from dataclasses import dataclass
from typing import Final, Generic, TypeAlias, TypeVar

from ._config import JOURNAL_INTENT_BATCH
from ._files import ItemFile, item_files
from ._journal import RunJournal
from ._port import EntryLike, ExportPort, JobLike
from .coordination._policy import mark_exception_seen

__all__ = ["UNFINISHED", "PendingReader", "RunStats", "WorkItem"]

logger: Final = logging.getLogger("pleo_export")

#: The job item statuses still to do.
UNFINISHED: Final = ("pending", "in_progress")

JobT = TypeVar("JobT", bound=JobLike)
ItemT = TypeVar("ItemT", bound=EntryLike)
ExportT = TypeVar("ExportT", bound=EntryLike)
ItemT_co = TypeVar("ItemT_co", bound=EntryLike, covariant=True)
ExportT_co = TypeVar("ExportT_co", bound=EntryLike, covariant=True)


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


class PendingReader(Generic[JobT, ItemT, ExportT]):
    """One ``pending()`` pass over a run's items still to do.

    Args:
        port: the run's API version.
        job_id: the job.
        journal: the run's journal; each batch's intents are written before it is handed out.
        stats: the run's counters (``total`` and ``in_doubt`` are set here).
        reported: entries with an outcome in this run (read live: they are skipped).
        in_doubt: entries an earlier run handed out without an outcome.
        check_open: raises unless the run is open (checked as reading begins).
        check_sending: raises once items must no longer be handed out (lease lost, journal
            down, Pleo refusing outcomes).
        listed: told the entries the job lists as unfinished, once listed.
        missing: told each listed entry Pleo sent no export data for.
        size: the job's ``numberOfItems``: when that many are ``pending`` none can be
            ``in_progress``, so that listing (one request) is skipped.
    """

    def __init__(
        self,
        port: ExportPort[JobT, ItemT, ExportT],
        job_id: uuid.UUID,
        journal: RunJournal,
        stats: RunStats,
        *,
        reported: Set[uuid.UUID],
        in_doubt: Set[uuid.UUID],
        check_open: Callable[[], None],
        check_sending: Callable[[], None],
        listed: Callable[[Set[uuid.UUID]], None],
        missing: Callable[[uuid.UUID], None],
        size: int | None = None,
    ) -> None:
        self._port = port
        self._size = size
        self._job_id = job_id
        self._journal = journal
        self._stats = stats
        self._reported = reported
        self._in_doubt = in_doubt
        self._check_open = check_open
        self._check_sending = check_sending
        self._listed = listed
        self._missing = missing

    async def read(self) -> AsyncGenerator[WorkItem[ItemT, ExportT], None]:
        """Yield each item still to do, once its batch's intents are journaled."""
        self._check_open()
        todo: dict[uuid.UUID, ItemT] = {}
        async for item in self._port.list_items(self._job_id, status="pending"):
            todo.setdefault(item.accounting_entry_id, item)
        size = self._size  # a hostile job's numberOfItems may be anything: only an int counts
        if not isinstance(size, int) or isinstance(size, bool) or len(todo) < size:
            async for item in self._port.list_items(self._job_id, status="in_progress"):
                todo.setdefault(item.accounting_entry_id, item)
        self._listed(set(todo))
        for entry in self._reported:
            todo.pop(entry, None)
        self._stats.total = len(todo)
        logger.info("job %s: %d item(s) to export", self._job_id, len(todo))
        if todo:
            # Each batch's intents are journaled in the background while the batch before it
            # is handed out; a batch is yielded only once its own write has landed.
            batch: list[WorkItem[ItemT, ExportT]] = []
            ahead: _Ahead[ItemT, ExportT] | None = None
            async with self._port.list_export_items(self._job_id) as export_items:
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
                logger.warning("job %s: no export data for entry %s", self._job_id, entry)
                self._missing(entry)

    def _work(self, item: ItemT, export_item: ExportT) -> WorkItem[ItemT, ExportT]:
        doubt = item.accounting_entry_id in self._in_doubt
        self._stats.in_doubt += doubt
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
