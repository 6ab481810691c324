"""What an export run has still to do: its work items, read and journaled ahead.

``PendingReader`` lists a job's unfinished items, streams the export data and joins the two by
accounting entry into ``WorkItem`` values; each batch's intents are journaled (in the
background, while the batch before it is handed out) before any of its items is yielded. A
task reads the export data a batch ahead, so a page boundary does not leave the handler's
slots waiting for a page to be fetched and parsed.
Recording outcomes is ``_recorder``'s part, the run's lifecycle ``_run``'s.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import AsyncGenerator, Callable, Set
from dataclasses import dataclass
from typing import Final, Generic, TypeAlias, TypeVar

from ._config import JOURNAL_INTENT_BATCH
from ._journal import RunJournal
from ._port import EntryLike, ExportPort, JobLike
from ._work import WorkItem
from .coordination._policy import mark_exception_seen

__all__ = ["UNFINISHED", "PendingReader", "RunStats", "WorkItem"]

logger: Final = logging.getLogger("pleo_export")

#: The job item statuses still to do.
UNFINISHED: Final = ("pending", "in_progress")

JobT = TypeVar("JobT", bound=JobLike)
ItemT = TypeVar("ItemT", bound=EntryLike)
ExportT = TypeVar("ExportT", bound=EntryLike)


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
            async with contextlib.aclosing(self._from_batches(todo)) as works:
                async for work in works:
                    yield work
        for entry in todo:
            if entry not in self._reported:
                logger.warning("job %s: no export data for entry %s", self._job_id, entry)
                self._missing(entry)

    async def _from_batches(
        self, todo: dict[uuid.UUID, ItemT]
    ) -> AsyncGenerator[WorkItem[ItemT, ExportT], None]:
        """Hand out the batches a background task reads ahead (see ``_read_ahead``)."""
        ready: asyncio.Queue[_Ahead[ItemT, ExportT] | None] = asyncio.Queue()
        turn = asyncio.Semaphore(1)
        reading = asyncio.ensure_future(self._read_ahead(todo, ready, turn))
        reading.add_done_callback(mark_exception_seen)
        reading.add_done_callback(lambda _: ready.put_nowait(None))
        try:
            while (ahead := await ready.get()) is not None:
                turn.release()  # the next batch's intents may be written now
                async for work in self._hand_out(ahead):
                    yield work
            reading.result()  # what stopped the reading, raised where items are asked for
        finally:
            if not reading.done():
                reading.cancel()
                await asyncio.wait([reading])  # its pager closed (a cancellation of ours passes)

    async def _read_ahead(
        self,
        todo: dict[uuid.UUID, ItemT],
        ready: asyncio.Queue[_Ahead[ItemT, ExportT] | None],
        turn: asyncio.Semaphore,
    ) -> None:
        """Join the export data to ``todo`` into batches, each put in ``ready`` once its
        intents' write has begun; the write waits for ``turn``, given as the batch before it
        starts to be handed out. So the next batch is read (its page fetched and parsed) while
        one is handed out, and at most one batch is journaled that is not yet handed out."""
        batch: list[WorkItem[ItemT, ExportT]] = []
        async with self._port.list_export_items(self._job_id) as export_items:
            async for export_item in export_items:
                job_item = todo.pop(export_item.accounting_entry_id, None)
                if job_item is None or export_item.accounting_entry_id in self._reported:
                    continue
                batch.append(self._work(job_item, export_item))
                if len(batch) >= JOURNAL_INTENT_BATCH or not todo:
                    await turn.acquire()
                    ready.put_nowait(self._journal_ahead(batch))
                    batch = []
                if not todo:
                    break  # the rest of the stream is items finished earlier
        if batch:
            await turn.acquire()
            ready.put_nowait(self._journal_ahead(batch))

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
