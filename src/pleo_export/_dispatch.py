"""The handler side of an export run: up to N handler calls in flight, retries, a breaker.

``Dispatch`` takes a run's ``pending()`` items and hands them to the caller's handler, keeping
up to ``concurrency`` calls in flight; a call is one item, or up to ``batch_size`` items for a
batch handler (``_answers.asker`` makes both forms one). A handler answers ``Booked``,
``Rejected`` or ``Retry`` per item; an exception is transient (the ERP may be down) and the
call's items are offered again after a back-off with ``work.in_doubt`` set, since the ERP may
have booked before it failed. After ``max_attempts`` an
item fails (``unexpected_failure``, a short reason for people; the whole exception is logged),
unless the exception says the ERP is out (``OSError``: connection, timeout): that never fails an
item one by one.
Consecutive transient failures open a breaker: no calls but one probe on a growing schedule
until one succeeds. An outage longer than ``max_outage`` fails the *job* with a job-level reason
(``accounting_system_unreachable``…); the same unclassified exception on consecutive calls is a
systemic bug: the job is paused, nothing failed at Pleo. Recording outcomes is the run's part.
"""

from __future__ import annotations

import asyncio
import dataclasses
import heapq
import logging
import random
import uuid
from collections.abc import AsyncIterator
from datetime import datetime
from enum import StrEnum
from typing import Final, Generic, Protocol, TypedDict, TypeVar

from ._answers import (
    BatchAnswer,
    BatchAnswerError,
    BatchHandler,
    Booked,
    Handler,
    JobAbortedError,
    Outcome,
    Rejected,
    Retry,
    as_outcome,
    asker,
    item_rejection,
    outage_type,
    short_reason,
)
from ._config import OUTAGE_RETRY_INITIAL, OUTAGE_RETRY_MAX
from ._errors import InvalidArgumentError
from ._port import EntryLike
from ._reader import WorkItem
from ._validation import check_int

__all__ = [
    "BatchAnswer",
    "BatchAnswerError",
    "BatchHandler",
    "Booked",
    "Dispatch",
    "DispatchOptions",
    "DispatchWatch",
    "Ending",
    "Handler",
    "JobAbortedError",
    "Outcome",
    "Rejected",
    "Retry",
    "short_reason",
]

logger: Final = logging.getLogger("pleo_export")

ItemT = TypeVar("ItemT", bound=EntryLike)
ExportT = TypeVar("ExportT", bound=EntryLike)
ItemT_co = TypeVar("ItemT_co", bound=EntryLike, covariant=True)
ExportT_co = TypeVar("ExportT_co", bound=EntryLike, covariant=True)

#: Calls in a row that failed transiently before the breaker opens.
BREAKER_THRESHOLD: Final = 5
#: Attempts of one item (while others succeed) before it is failed.
DEFAULT_MAX_ATTEMPTS: Final = 5
#: Seconds an outage may last before the job is failed with a job-level reason.
DEFAULT_MAX_OUTAGE: Final = 900.0
#: Seconds a worker leaves a job paused for a systemic handler error before trying it again.
SYSTEMIC_PAUSE: Final = 300.0
#: Seconds calls in flight may take to finish after ``stop()`` or a cancel.
DEFAULT_GRACE: Final = 10.0


class DispatchOptions(TypedDict, total=False):
    """The keyword arguments of ``ExportRun.process`` besides ``batch_size`` (see there)."""

    concurrency: int
    max_attempts: int
    max_outage: float
    grace: float


class Ending(StrEnum):
    """How a dispatch ended."""

    DONE = "done"  # every item has an outcome
    STOPPED = "stopped"  # stop() or a cancel: the job is left in_progress
    SYSTEMIC = "systemic"  # the handler fails the same way on every item: paused
    ABORTED = "aborted"  # the job was failed (an outage past the bound, or JobAbortedError)


class _Run(Protocol[ItemT_co, ExportT_co]):
    """What a dispatch needs of an ``ExportRun``."""

    @property
    def job_id(self) -> uuid.UUID: ...

    def pending(self) -> AsyncIterator[WorkItem[ItemT_co, ExportT_co]]: ...

    async def ensure_sending(self) -> None: ...

    async def abort(self, *, reason: str, reason_type: str) -> None: ...

    def pause(self) -> None: ...

    def succeeded(
        self,
        work: WorkItem[EntryLike, EntryLike],
        *,
        external_id: str | None = None,
        external_url: str | None = None,
        exported_at: datetime | None = None,
    ) -> None: ...

    def failed(
        self, work: WorkItem[EntryLike, EntryLike], *, reason: str, reason_type: str | None = None
    ) -> None: ...


class DispatchWatch(Protocol):
    """What a dispatch tells its worker (stats, metrics, progress)."""

    def offered(self, work: WorkItem[EntryLike, EntryLike]) -> None: ...

    def recorded(self, work: WorkItem[EntryLike, EntryLike], booked: bool) -> None: ...

    def retried(self, work: WorkItem[EntryLike, EntryLike]) -> None: ...

    def breaker(self, is_open: bool) -> None: ...


class Dispatch(Generic[ItemT, ExportT]):
    """One run's handler calls, ``concurrency`` at a time, with retries and a breaker.

    Args:
        run: the open ``ExportRun``.
        handler: ``handler(work) -> Booked | Rejected | Retry``, sync or async; with
            ``batch_size``, ``handler(batch) -> BatchAnswer`` instead.
        batch_size: items per call of a batch handler (None: a single-item handler).
        concurrency: handler calls in flight at once (1 keeps the items' order).
        max_attempts: attempts of one item before it fails ``unexpected_failure``.
        max_outage: seconds the breaker may stay open before the job is failed.
        grace: seconds calls in flight may take after a stop or cancel before they are
            cancelled (their items come back in doubt).
        stopping: set when to stop handing out (the worker's ``stop()``): calls in flight then
            get ``grace`` seconds.
        watch: told of each item offered, recorded and retried.
    """

    def __init__(
        self,
        run: _Run[ItemT, ExportT],
        handler: Handler[ItemT, ExportT] | BatchHandler[ItemT, ExportT],
        *,
        batch_size: int | None = None,
        concurrency: int = 1,
        max_attempts: int = DEFAULT_MAX_ATTEMPTS,
        max_outage: float = DEFAULT_MAX_OUTAGE,
        grace: float = DEFAULT_GRACE,
        stopping: asyncio.Event | None = None,
        watch: DispatchWatch | None = None,
    ) -> None:
        if not isinstance(concurrency, int) or concurrency < 1:
            raise InvalidArgumentError("concurrency", f"must be an int >= 1, got {concurrency!r}")
        if batch_size is not None:
            check_int(batch_size, "batch_size", minimum=1)
        self._run = run
        self._ask = asker(handler, batch_size)
        self._batched = batch_size is not None
        self._batch_size = 1 if batch_size is None else batch_size
        self._concurrency = concurrency
        self._max_attempts = max_attempts
        # Pleo expires a job ``expiresIn`` seconds after its last update, and an outage sends
        # no update: fail it well before that (half the term) whatever ``max_outage`` says.
        expires_in = getattr(getattr(run, "job", None), "expires_in", None)
        if isinstance(expires_in, int | float) and expires_in > 0:
            max_outage = min(max_outage, expires_in / 2)
        self._max_outage = max_outage
        self._grace = grace
        self._stopping = stopping
        #: Waits for ``stopping`` while the dispatch waits for calls (None: not waiting yet).
        self._stop_waiter: asyncio.Task[None] | None = None
        self._watch = watch
        self._inflight: set[asyncio.Task[None]] = set()
        self._later: list[tuple[float, int, WorkItem[ItemT, ExportT]]] = []
        self._attempts: dict[uuid.UUID, int] = {}
        self._seq = 0
        #: Calls started so far (each call's number).
        self._calls = 0
        #: Transient failures in a row, and the unclassified exception types among them.
        self._streak = 0
        self._streak_types: set[str] = set()
        self._outage_type = "accounting_system_unreachable"
        #: Loop time the breaker opened (None: closed), and when the next probe may go.
        self.open_since: float | None = None
        self._probe_at = 0.0
        self._probe_delay = OUTAGE_RETRY_INITIAL
        self._probing = False
        #: The number of the call probing the outage.
        self._probe: int | None = None
        self._ending: Ending | None = None
        self._abort: tuple[str, str] | None = None
        #: Items offered again after a ``Retry`` or an exception.
        self.retried = 0
        #: Seconds the breaker was open in all.
        self.outage_seconds = 0.0

    async def run(self) -> Ending:
        """Hand out every item, wait for the calls, and say how it ended."""
        items = self._run.pending().__aiter__()
        loop = asyncio.get_running_loop()
        exhausted = False
        try:
            while self._ending is None:
                if self._stopping is not None and self._stopping.is_set():
                    self._ending = Ending.STOPPED
                    break
                if len(self._inflight) >= self._slots():
                    await self._wait_any(None)
                    continue
                now = loop.time()
                if self.open_since is not None and now - self.open_since > self._max_outage:
                    self._abort = (
                        f"The accounting system was unreachable for {now - self.open_since:.0f}"
                        " s; export again once it is back.",
                        self._outage_type,
                    )
                    break
                # A call takes items due again first, then new ones; one item probes an outage.
                size = 1 if self.open_since is not None else self._batch_size
                batch: list[WorkItem[ItemT, ExportT]] = []
                if self._later and self._later[0][0] <= now and self._may_call(now):
                    while self._later and self._later[0][0] <= now and len(batch) < size:
                        batch.append(heapq.heappop(self._later)[2])
                    await self._run.ensure_sending()
                if len(batch) < size and not exhausted and self.open_since is None:
                    try:
                        while len(batch) < size:
                            batch.append(await anext(items))
                    except StopAsyncIteration:
                        exhausted = True
                        if not batch:
                            continue
                elif not batch:
                    if self._later or self._inflight:
                        await self._wait_any(self._next_due(now))
                        continue
                    self._ending = Ending.DONE
                    break
                self._calls += 1
                if self.open_since is not None:
                    self._probing = True
                    self._probe = self._calls
                self._start(batch, self._calls)
        except BaseException:
            await self._drain()
            raise
        finally:
            if self._stop_waiter is not None:
                self._stop_waiter.cancel()
        await self._drain()
        if self.open_since is not None:  # still out as the dispatch ends
            self.outage_seconds += loop.time() - self.open_since
        if self._abort is not None:
            reason, reason_type = self._abort
            logger.error("job %s: %s (%s)", self._run.job_id, reason, reason_type)
            await self._run.abort(reason=reason, reason_type=reason_type)
            return Ending.ABORTED
        if self._ending in (Ending.SYSTEMIC, Ending.STOPPED):
            self._run.pause()
        return self._ending or Ending.DONE

    def _slots(self) -> int:
        return 1 if self.open_since is not None else self._concurrency

    def _may_call(self, now: float) -> bool:
        if self.open_since is None:
            return True
        return not self._probing and now >= self._probe_at

    def _next_due(self, now: float) -> float | None:
        due = [self._later[0][0]] if self._later else []
        if self.open_since is not None:
            due.append(self._probe_at)
        return max(0.0, min(due) - now) if due else None

    async def _wait_any(self, seconds: float | None) -> None:
        """Wait for a call to end, ``seconds`` to pass or a stop, whichever comes first."""
        waits = set(self._inflight)
        if self._stopping is not None:  # a stop must not wait for a call that hangs
            if self._stop_waiter is None:
                self._stop_waiter = asyncio.ensure_future(_until(self._stopping))
            waits.add(self._stop_waiter)
        if waits:
            await asyncio.wait(waits, timeout=seconds, return_when=asyncio.FIRST_COMPLETED)
        elif seconds is not None:
            await asyncio.sleep(seconds)

    def _start(self, batch: list[WorkItem[ItemT, ExportT]], call: int) -> None:
        task = asyncio.get_running_loop().create_task(self._call(batch, call))
        self._inflight.add(task)
        task.add_done_callback(self._inflight.discard)

    async def _drain(self) -> None:
        """Let calls in flight finish within the grace period, then cancel the rest."""
        if not self._inflight:
            return
        pending = set(self._inflight)
        try:
            _, pending = await asyncio.wait(pending, timeout=self._grace)
        finally:
            for task in pending:
                task.cancel()
            if pending:
                await asyncio.wait(pending)

    async def _call(self, batch: list[WorkItem[ItemT, ExportT]], call: int) -> None:
        if self._watch is not None:
            for work in batch:
                if work.in_doubt:
                    self._watch.offered(work)
        try:
            answers = await self._ask(batch)
        except JobAbortedError as exc:
            self._abort = (exc.reason, exc.reason_type)
            self._ending = Ending.ABORTED
            return
        except Exception as exc:
            self._failed_call(batch, call, exc)
            return
        outcomes = [as_outcome(answer) for answer in answers]
        retries: list[tuple[WorkItem[ItemT, ExportT], float | None, bool]] = []
        for work, outcome in zip(batch, outcomes, strict=True):
            if isinstance(outcome, Retry):
                self._outage_type = outcome.reason_type
                retries.append((work, outcome.after, work.in_doubt))
        if len(retries) < len(batch):  # the ERP answered: it is up
            self._succeeded_call()
            for work, outcome in zip(batch, outcomes, strict=True):
                if not isinstance(outcome, Retry):
                    self._record(work, outcome)
        if retries:  # a call of nothing but Retry counts as failed
            self._transient(call, retries, None, failed=len(retries) == len(batch))

    def _failed_call(
        self, batch: list[WorkItem[ItemT, ExportT]], call: int, exc: Exception
    ) -> None:
        rejection = None if self._batched else item_rejection(exc)
        if rejection is not None:  # a receipt that could not be downloaded says so
            self._succeeded_call()
            self._record(batch[0], rejection)
            return
        if self._batched:
            logger.warning(
                "job %s: the batch handler raised for %d items (%s…)",
                self._run.job_id,
                len(batch),
                batch[0].accounting_entry_id,
                exc_info=exc,
            )
        else:
            logger.warning(
                "job %s: the handler raised for item %s",
                self._run.job_id,
                batch[0].accounting_entry_id,
                exc_info=exc,
            )
        outage = outage_type(exc)
        if outage is not None:
            self._outage_type = outage
        else:
            self._streak_types.add(type(exc).__name__)
        # The ERP may have booked them all: each comes back in doubt.
        self._transient(call, [(work, None, True) for work in batch], exc, failed=True)

    def _succeeded_call(self) -> None:
        """A call answered: the ERP is up (close the breaker) and no systemic streak."""
        self._streak = 0
        self._streak_types.clear()
        if self.open_since is not None:
            now = asyncio.get_running_loop().time()
            self.outage_seconds += now - self.open_since
            logger.info("job %s: the accounting system answers again", self._run.job_id)
            self.open_since = None
            if self._watch is not None:
                self._watch.breaker(False)
            self._probe_delay = OUTAGE_RETRY_INITIAL
        self._probing, self._probe = False, None

    def _transient(
        self,
        call: int,
        items: list[tuple[WorkItem[ItemT, ExportT], float | None, bool]],
        exc: Exception | None,
        *,
        failed: bool,
    ) -> None:
        """Offer ``items`` (each with its ``Retry.after`` and whether it is in doubt) again
        later; a ``failed`` call also counts towards the breaker and the systemic streak."""
        now = asyncio.get_running_loop().time()
        was_probe = self._probe == call
        if was_probe:
            self._probing, self._probe = False, None
        self._streak += failed
        again = []
        if self.open_since is None:
            for work, after, in_doubt in items:
                entry = work.accounting_entry_id
                attempts = self._attempts[entry] = self._attempts.get(entry, 0) + 1
                # An outage (connection, timeout, Retry) never fails an item one by one,
                # however it flaps: it feeds the breaker and the job-level bound. Others count.
                if exc is not None and outage_type(exc) is None and attempts >= self._max_attempts:
                    self._record(work, Rejected(short_reason(exc), "unexpected_failure"))
                else:
                    again.append((work, after, in_doubt))
            if again and failed and self._streak >= BREAKER_THRESHOLD:
                if exc is not None and outage_type(exc) is None and len(self._streak_types) == 1:
                    logger.error(
                        "job %s: the handler raised %s on %d calls in a row: a bug, not an "
                        "outage; the job is paused (nothing failed at Pleo)",
                        self._run.job_id,
                        type(exc).__name__,
                        self._streak,
                    )
                    self._ending = Ending.SYSTEMIC
                else:
                    logger.warning("job %s: accounting system out; probing", self._run.job_id)
                    self.open_since = now
                    self._probe_at = now + self._probe_delay
                    if self._watch is not None:
                        self._watch.breaker(True)
        else:
            again = items
            if was_probe:  # still out: probe again later (calls in flight as it opened: no)
                self._probe_delay = min(self._probe_delay * 2, OUTAGE_RETRY_MAX * 8)
                self._probe_at = now + self._probe_delay
        jitter = random.uniform(0.5, 1.0)  # one per call: a batch comes back together
        for work, after, in_doubt in again:
            if after is None:
                tries = self._attempts.get(work.accounting_entry_id, 1)
                after = min(OUTAGE_RETRY_INITIAL * 2 ** (tries - 1), OUTAGE_RETRY_MAX)
                after *= jitter
            self.retried += 1
            if self._watch is not None:
                self._watch.retried(work)
            self._seq += 1
            again_work = dataclasses.replace(work, in_doubt=in_doubt)
            heapq.heappush(self._later, (now + max(0.0, after), self._seq, again_work))

    def _record(self, work: WorkItem[ItemT, ExportT], answer: Booked | Rejected) -> None:
        """Record the answer on the run; one the run refuses fails the item instead."""
        run = self._run
        if isinstance(answer, Booked):
            try:
                run.succeeded(
                    work,
                    external_id=answer.external_id,
                    external_url=answer.external_url,
                    exported_at=answer.exported_at,
                )
            except InvalidArgumentError as exc:
                answer = Rejected(short_reason(exc), "unexpected_failure")
            else:
                if self._watch is not None:
                    self._watch.recorded(work, True)
                return
        try:
            run.failed(work, reason=answer.reason, reason_type=answer.reason_type)
        except InvalidArgumentError as exc:
            run.failed(work, reason=short_reason(exc), reason_type="unexpected_failure")
        if self._watch is not None:
            self._watch.recorded(work, False)


async def _until(event: asyncio.Event) -> None:
    await event.wait()
