"""Any number of job item updates, sent as batches of at most 100 with bounded concurrency.

``chunk`` is the pure splitting rule; ``send_batches`` is a thin async shell over a one-batch
sender that gathers every answer, per-item errors and failed batches included, into one
``BatchResult``; ``Outbox`` buffers ``ItemOutcome`` values as they are recorded, sends them as
batches fill (journaled first, through the run's journal, then the version's ``report``) and
adds each answer to the run's counters and its own ``delivered`` and ``errors``, which the run
reads. What to report for an item is the caller's business (see ``_recorder``); turning an
outcome into a request is the wire's.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from collections import Counter
from collections.abc import Awaitable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Final, Protocol, TypeAlias, TypeVar, cast

from ._config import BATCH_LIMIT, DEFAULT_BATCH_CONCURRENCY, DEFAULT_FLUSH_INTERVAL
from ._errors import InvalidArgumentError, PleoError
from ._journal import RunJournal
from ._lifecycle import status_text
from ._outcome import ItemOutcome
from ._port import EntryLike, ExportPort, ItemErrorLike, JobLike, UpdateResultLike
from ._validation import check_int

if TYPE_CHECKING:
    from collections.abc import Mapping

    from .models import (
        ExportJobItem,
        ExportJobItemUpdateError,
        ExportJobItemUpdateErrorV3,
        ExportJobItemV3,
        UpdateExportJobItem,
        UpdateExportJobItemV3,
    )

    # What each list holds (v3 or v2 models), for the casts from the wire's protocols below.
    _Updated: TypeAlias = ExportJobItemV3 | ExportJobItem
    _Error: TypeAlias = ExportJobItemUpdateErrorV3 | ExportJobItemUpdateError
    _Given: TypeAlias = (
        UpdateExportJobItemV3 | UpdateExportJobItem | Mapping[str, object] | ItemOutcome
    )

__all__ = [
    "BatchResult",
    "BatchUpdateError",
    "Counts",
    "FailedBatch",
    "Outbox",
    "chunk",
    "send_batches",
    "settle_deliveries",
]

logger: Final = logging.getLogger("pleo_export")

T = TypeVar("T")
U = TypeVar("U", bound=EntryLike)
U_contra = TypeVar("U_contra", bound=EntryLike, contravariant=True)


#: Every outbox send in flight in this process (a background batch, or a flush — the one a
#: cancelled run left running under its shield included), with the entries it carries.
_DELIVERING: dict[asyncio.Task[object], list[uuid.UUID]] = {}


async def settle_deliveries(grace: float) -> None:
    """Wait up to ``grace`` seconds for the outbox sends in flight (what a client's ``aclose``
    does before it closes the pool); log at ERROR, with their entry ids, those still going."""
    mine = asyncio.current_task()
    deadline = asyncio.get_running_loop().time() + grace
    late: set[asyncio.Task[object]] = set()
    while True:  # a flush may start sends of its own meanwhile: wait for those too
        tasks = {task for task in _DELIVERING if task is not mine and not task.done()}
        left = deadline - asyncio.get_running_loop().time()
        if not tasks or left <= 0:
            late = tasks
            break
        await asyncio.wait(tasks, timeout=left)
    entries = [str(entry) for task in late for entry in _DELIVERING.get(task, [])]
    if entries:
        logger.error(
            "closing the client: %d recorded outcome(s) were still on their way to Pleo after "
            "%gs and may not arrive (their items come back in doubt only with a durable "
            "coordinator): %s",
            len(entries),
            grace,
            ", ".join(entries),
        )


@contextlib.contextmanager
def _delivering(outcomes: Sequence[EntryLike]) -> Iterator[None]:
    """Register the current task as sending ``outcomes`` while the block runs."""
    task = asyncio.current_task()
    if task is None:
        yield
        return
    _DELIVERING[task] = [o.accounting_entry_id for o in outcomes]
    try:
        yield
    finally:
        _DELIVERING.pop(task, None)


def chunk(items: Sequence[T], size: int = BATCH_LIMIT) -> list[Sequence[T]]:
    """Split ``items`` into consecutive slices of at most ``size`` (Pleo's limit: 100).

    Raises:
        ValueError: ``size`` is below 1.
    """
    if size < 1:
        raise ValueError("size must be >= 1")
    return [items[start : start + size] for start in range(0, len(items), size)]


@dataclass(frozen=True, slots=True)
class FailedBatch:
    """One batch Pleo did not accept as a whole, after the SDK's retries.

    Attributes:
        index: the batch's position (0-based) among the batches of the call.
        updates: the updates it carried, as the caller gave them (models or dicts to
            ``update_all``, ``ItemOutcome`` values from an export run); send them again to retry.
        error: why it failed, usually a ``PleoError`` (``JobFinishedError``, ``ServerError``…).
    """

    index: int
    updates: Sequence[
        UpdateExportJobItemV3 | UpdateExportJobItem | Mapping[str, object] | ItemOutcome
    ]
    error: Exception


@dataclass(slots=True)
class BatchResult:
    """Everything that came of an ``update_all`` call; nothing is left out.

    Attributes:
        updated: the job items Pleo reports as updated (each response's ``data``), in batch
            order.
        errors: per-item errors from 200 responses (``accountingEntryId``, ``type``,
            ``message``), e.g. ``ACCOUNTING_ENTRY_DOES_NOT_EXIST``; those items did not change.
        failed_batches: batches that failed as a whole, with their exception and updates.
        batches: how many batches were sent (failed ones included).
    """

    updated: list[ExportJobItemV3 | ExportJobItem] = field(default_factory=list)
    errors: list[ExportJobItemUpdateErrorV3 | ExportJobItemUpdateError] = field(
        default_factory=list
    )
    failed_batches: list[FailedBatch] = field(default_factory=list)
    batches: int = 0

    @property
    def ok(self) -> bool:
        """True when every update was applied: no per-item error and no failed batch."""
        return not self.errors and not self.failed_batches

    @property
    def failed_updates(
        self,
    ) -> list[UpdateExportJobItemV3 | UpdateExportJobItem | Mapping[str, object] | ItemOutcome]:
        """The updates of every failed batch, in order, ready to be sent again."""
        return [update for batch in self.failed_batches for update in batch.updates]

    def __repr__(self) -> str:
        return (
            f"BatchResult(batches={self.batches}, updated={len(self.updated)}, "
            f"errors={len(self.errors)}, failed_batches={len(self.failed_batches)})"
        )


class BatchUpdateError(PleoError):
    """Some updates of an ``update_all`` call (or an export run's flush) were not applied.

    ``result`` is the whole ``BatchResult``: what was applied, the per-item errors and the
    failed batches with their updates.
    """

    def __init__(self, result: BatchResult) -> None:
        failed = len(result.failed_updates)
        first = result.failed_batches[0].error if result.failed_batches else None
        cause = f"; first failure: {type(first).__name__}: {first}" if first is not None else ""
        super().__init__(
            f"{len(result.updated)} item(s) updated, {len(result.errors)} refused by Pleo, "
            f"{failed} not delivered in {len(result.failed_batches)} failed batch(es){cause}"
        )
        self.result = result
        self.__cause__ = first  # what stopped the batches, for tracebacks and failure types


class _Sender(Protocol[U_contra]):
    """Sends one batch of at most 100 updates and returns Pleo's answer."""

    def __call__(self, batch: Sequence[U_contra], /) -> Awaitable[UpdateResultLike]: ...


async def send_batches(
    send: _Sender[U],
    updates: Sequence[U],
    *,
    given: Sequence[object] | None = None,
    job_id: uuid.UUID,
    concurrency: int = DEFAULT_BATCH_CONCURRENCY,
    raise_on_error: bool = False,
) -> BatchResult:
    """Send any number of updates in batches of 100, ``concurrency`` batches at a time.

    Each update is checked before the first request, so a repeated entry at position 250 does
    not leave the first batches sent. Each batch is a PUT, retried on transient failures; a
    batch that still fails is kept, with its updates, in ``failed_batches``.

    Args:
        send: sends one batch (``JobItems`` for models, the port for ``ItemOutcome`` values).
        updates: anything keyed by ``accounting_entry_id``, each entry once.
        given: the updates as the caller gave them, kept in ``FailedBatch.updates`` (default
            ``updates``).
        job_id: the job, for log lines.
        concurrency: batches in flight at once.
        raise_on_error: raise ``BatchUpdateError`` unless every update was applied.

    Raises:
        InvalidArgumentError: an accounting entry given twice, or ``concurrency`` below 1.
        BatchUpdateError: ``raise_on_error`` and some update was not applied (a per-item error
            or a failed batch); its ``result`` holds everything.
    """
    check_int(concurrency, "concurrency", minimum=1)
    _refuse_duplicates(updates)
    result = BatchResult()
    if not updates:
        return result
    batches = chunk(updates)
    given_batches = batches if given is None else chunk(given)
    answers: dict[int, UpdateResultLike | FailedBatch] = {}
    queue = iter(range(len(batches)))

    async def sender() -> None:
        # Each sender takes the next batch until none is left: at most ``concurrency`` in flight.
        for index in queue:
            try:
                answers[index] = await send(batches[index])
            except Exception as exc:
                logger.warning(
                    "job %s: batch %d of %d (%d updates) failed: %s",
                    job_id,
                    index + 1,
                    len(batches),
                    len(batches[index]),
                    exc,
                )
                given_batch = cast("Sequence[_Given]", given_batches[index])
                answers[index] = FailedBatch(index, given_batch, exc)

    async with asyncio.TaskGroup() as group:
        for _ in range(min(concurrency, len(batches))):
            group.create_task(sender())
    for outcome in (answers[index] for index in range(len(batches))):
        if isinstance(outcome, FailedBatch):
            result.failed_batches.append(outcome)
        else:
            result.updated.extend(cast("Sequence[_Updated]", outcome.data))
            result.errors.extend(cast("Sequence[_Error]", outcome.errors))
    result.batches = len(batches)
    logger.debug("job %s: %r", job_id, result)
    if raise_on_error and not result.ok:
        raise BatchUpdateError(result)
    return result


def _refuse_duplicates(updates: Sequence[EntryLike]) -> None:
    """With batches in flight together, two updates of one entry would land in either order."""
    seen: set[uuid.UUID] = set()
    for index, update in enumerate(updates):
        entry = update.accounting_entry_id
        if entry in seen:
            raise InvalidArgumentError(
                f"updates[{index}]", f"accounting entry {entry} is updated twice in one call"
            )
        seen.add(entry)


class Counts(Protocol):
    """The counters an outbox adds each answer to (the run's ``RunStats``)."""

    flushed_batches: int
    delivered: int
    item_errors: int


class Outbox:
    """Item outcomes recorded one by one and sent in batches of 100 as they fill.

    A full batch goes out in the background at once (at most ``concurrency`` in flight); so
    does whatever has waited ``flush_interval`` seconds, checked as updates come in. Each batch
    goes through ``journal.report`` (journaled first) to the version's ``report``. A batch that
    fails after retries is put back and ``failure`` is set: no more background sends until
    ``flush()`` tries again. Nothing is dropped, cancellation included.

    Each answer is added to ``counts`` (batches accepted, items delivered, item errors), and
    the statuses Pleo confirmed and its per-item errors are kept in ``delivered`` and
    ``errors`` (each refused item logged at WARNING): values the run reads, not callbacks.

    Args:
        journal: the run's journal; each batch is journaled, and its answer confirmed, through it.
        port: the run's API version; its ``report`` sends one batch.
        job_id: the job the outcomes belong to.
        counts: the run's counters.
        concurrency: batches in flight at once (default 4).
        flush_interval: seconds an update may wait for its batch to fill (default 30).
    """

    def __init__(
        self,
        journal: RunJournal,
        port: ExportPort[JobLike, EntryLike, EntryLike],
        job_id: uuid.UUID,
        counts: Counts,
        *,
        concurrency: int = DEFAULT_BATCH_CONCURRENCY,
        flush_interval: float = DEFAULT_FLUSH_INTERVAL,
    ) -> None:
        self._journal = journal
        self._port = port
        self._job_id = job_id
        self._counts = counts
        self._concurrency = concurrency
        self._flush_interval = flush_interval
        self._buffer: list[ItemOutcome] = []
        self._since: float | None = None
        self._inflight: set[asyncio.Task[None]] = set()
        self._slots = asyncio.Semaphore(concurrency)
        #: The last failed send, until a flush delivers everything.
        self.failure: BatchUpdateError | None = None
        #: Statuses of the items Pleo confirmed as updated.
        self.delivered: Counter[str] = Counter()
        #: Per-item errors Pleo returned in update responses.
        self.errors: list[ItemErrorLike] = []

    def __len__(self) -> int:
        return len(self._buffer)

    def add(self, update: ItemOutcome) -> None:
        """Buffer one update; send full (or old enough) batches in the background."""
        self._buffer.append(update)
        now = time.monotonic()
        if self._since is None:
            self._since = now
        if self.failure is not None:
            return  # Pleo is refusing batches: the next flush() retries, not every add
        if len(self._buffer) >= BATCH_LIMIT:
            self._send_in_background(full_only=True)
        elif now - self._since >= self._flush_interval:
            self._send_in_background(full_only=False)

    async def flush(self) -> None:
        """Send everything buffered now and wait for the batches already on their way.

        Raises:
            BatchUpdateError: some batch failed after retries; its updates stay buffered for
                the next flush.
        """
        with _delivering(list(self._buffer)):  # a client's aclose() waits for all of it
            await self.settle()
            if not self._buffer:
                return
            batch, self._buffer, self._since = self._buffer, [], None
            try:
                result = await send_batches(
                    self._report, batch, job_id=self._job_id, concurrency=self._concurrency
                )
            except BaseException:
                self._put_back(batch)
                raise
        self.failure = None
        self._absorb(result)
        if self.failure is not None:
            raise self.failure

    async def settle(self) -> None:
        """Wait for the background batches (``asyncio.wait`` leaves them running if we are
        cancelled meanwhile)."""
        while self._inflight:
            await asyncio.wait(set(self._inflight))

    def _send_in_background(self, *, full_only: bool) -> None:
        loop = asyncio.get_running_loop()
        while self._buffer and (len(self._buffer) >= BATCH_LIMIT or not full_only):
            batch = self._buffer[:BATCH_LIMIT]
            del self._buffer[:BATCH_LIMIT]
            task = loop.create_task(self._deliver(batch))
            self._inflight.add(task)
            task.add_done_callback(self._inflight.discard)
        self._since = time.monotonic() if self._buffer else None

    async def _deliver(self, batch: list[ItemOutcome]) -> None:
        async with self._slots:
            try:
                with _delivering(batch):
                    result = await send_batches(
                        self._report, batch, job_id=self._job_id, concurrency=1
                    )
            except BaseException:
                self._put_back(batch)  # cancelled: keep the updates for the next flush
                raise
        self._absorb(result)

    def _report(self, batch: Sequence[ItemOutcome]) -> Awaitable[UpdateResultLike]:
        """Send one batch: journaled first, then the version's ``report``."""
        return self._journal.report(self._port.report, self._job_id, batch)

    def _absorb(self, result: BatchResult) -> None:
        """Keep a send's answer: failed batches back in the buffer, the rest counted."""
        if result.failed_batches:
            self._put_back(cast("list[ItemOutcome]", result.failed_updates))  # what it sent
            self.failure = BatchUpdateError(result)
        counts = self._counts
        counts.flushed_batches += result.batches - len(result.failed_batches)
        counts.delivered += len(result.updated)
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
        counts.item_errors = len(self.errors)

    def _put_back(self, updates: Sequence[ItemOutcome]) -> None:
        self._buffer[:0] = updates
        if self._since is None:
            self._since = time.monotonic()
