"""The handler side of an export run: up to N handler calls in flight, retries, a breaker.

``Dispatch`` takes a run's ``pending()`` items and hands each to the caller's handler, keeping up
to ``concurrency`` calls in flight. A handler answers ``Booked``, ``Rejected`` or ``Retry``; an
exception is transient (the ERP may be down) and the item is offered again after a back-off with
``work.in_doubt`` set, since the ERP may have booked before it failed. After ``max_attempts`` an
item fails (``unexpected_failure``, a short reason for people; the whole exception is logged),
unless the exception says the ERP is out (``OSError``: connection, timeout): that never fails an
item one by one.
Consecutive transient failures open a breaker: no calls but one probe on a growing schedule
until one succeeds. An outage longer than ``max_outage`` fails the *job* with a job-level reason
(``accounting_system_unreachable``…); the same unclassified exception on consecutive items is a
systemic bug: the job is paused, nothing failed at Pleo. Recording outcomes is the run's part.
"""

from __future__ import annotations

import asyncio
import dataclasses
import heapq
import inspect
import logging
import random
import uuid
from collections.abc import AsyncIterator, Callable
from datetime import datetime
from enum import StrEnum
from typing import Final, Generic, Protocol, TypeVar

from ._answers import (
    Booked,
    Handler,
    JobAbortedError,
    Outcome,
    Rejected,
    Retry,
    as_outcome,
    item_rejection,
    outage_type,
    short_reason,
)
from ._config import OUTAGE_RETRY_INITIAL, OUTAGE_RETRY_MAX
from ._errors import InvalidArgumentError
from ._port import EntryLike
from ._reader import WorkItem

__all__ = [
    "Booked",
    "Dispatch",
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
        handler: ``handler(work) -> Booked | Rejected | Retry``, sync or async.
        concurrency: handler calls in flight at once (1 keeps the items' order).
        max_attempts: attempts of one item before it fails ``unexpected_failure``.
        max_outage: seconds the breaker may stay open before the job is failed.
        grace: seconds calls in flight may take after a stop or cancel before they are
            cancelled (their items come back in doubt).
        stopping: tells when to stop handing out (the worker's ``stop()``).
        watch: told of each item offered, recorded and retried.
    """

    def __init__(
        self,
        run: _Run[ItemT, ExportT],
        handler: Handler[ItemT, ExportT],
        *,
        concurrency: int = 1,
        max_attempts: int = DEFAULT_MAX_ATTEMPTS,
        max_outage: float = DEFAULT_MAX_OUTAGE,
        grace: float = DEFAULT_GRACE,
        stopping: Callable[[], bool] = lambda: False,
        watch: DispatchWatch | None = None,
    ) -> None:
        if not isinstance(concurrency, int) or concurrency < 1:
            raise InvalidArgumentError("concurrency", f"must be an int >= 1, got {concurrency!r}")
        self._run = run
        self._handler = handler
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
        self._watch = watch
        self._inflight: set[asyncio.Task[None]] = set()
        self._later: list[tuple[float, int, WorkItem[ItemT, ExportT]]] = []
        self._attempts: dict[uuid.UUID, int] = {}
        self._seq = 0
        #: Transient failures in a row, and the unclassified exception types among them.
        self._streak = 0
        self._streak_types: set[str] = set()
        self._outage_type = "accounting_system_unreachable"
        #: Loop time the breaker opened (None: closed), and when the next probe may go.
        self.open_since: float | None = None
        self._probe_at = 0.0
        self._probe_delay = OUTAGE_RETRY_INITIAL
        self._probing = False
        self._probe: uuid.UUID | None = None
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
                if self._stopping():
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
                work = None
                if self._later and self._later[0][0] <= now and self._may_call(now):
                    work = heapq.heappop(self._later)[2]
                    await self._run.ensure_sending()
                elif not exhausted and self.open_since is None:
                    try:
                        work = await anext(items)
                    except StopAsyncIteration:
                        exhausted = True
                        continue
                elif self._later or self._inflight:
                    await self._wait_any(self._next_due(now))
                    continue
                else:
                    self._ending = Ending.DONE
                    break
                if self.open_since is not None:
                    self._probing = True
                    self._probe = work.accounting_entry_id
                self._start(work)
        except BaseException:
            await self._drain()
            raise
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
        if self._inflight:
            await asyncio.wait(
                set(self._inflight), timeout=seconds, return_when=asyncio.FIRST_COMPLETED
            )
        elif seconds is not None:
            await asyncio.sleep(seconds)

    def _start(self, work: WorkItem[ItemT, ExportT]) -> None:
        task = asyncio.get_running_loop().create_task(self._call(work))
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

    async def _call(self, work: WorkItem[ItemT, ExportT]) -> None:
        if self._watch is not None and work.in_doubt:
            self._watch.offered(work)
        try:
            answer: object = self._handler(work)
            if inspect.isawaitable(answer):
                answer = await answer
        except JobAbortedError as exc:
            self._abort = (exc.reason, exc.reason_type)
            self._ending = Ending.ABORTED
            return
        except Exception as exc:
            self._failed_call(work, exc)
            return
        outcome = as_outcome(answer)
        if isinstance(outcome, Retry):
            self._outage_type = outcome.reason_type
            self._transient(work, None, outcome.after, in_doubt=work.in_doubt)
        else:
            self._succeeded_call()
            self._record(work, outcome)

    def _failed_call(self, work: WorkItem[ItemT, ExportT], exc: Exception) -> None:
        rejection = item_rejection(exc)  # a receipt that could not be downloaded says so
        if rejection is not None:
            self._succeeded_call()
            self._record(work, rejection)
            return
        logger.warning(
            "job %s: the handler raised for item %s",
            self._run.job_id,
            work.accounting_entry_id,
            exc_info=exc,
        )
        outage = outage_type(exc)
        if outage is not None:
            self._outage_type = outage
        else:
            self._streak_types.add(type(exc).__name__)
        self._transient(work, exc, None, in_doubt=True)  # the ERP may have booked it

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
        work: WorkItem[ItemT, ExportT],
        exc: Exception | None,
        after: float | None,
        *,
        in_doubt: bool,
    ) -> None:
        entry = work.accounting_entry_id
        loop = asyncio.get_running_loop()
        now = loop.time()
        was_probe = self._probe == entry
        if was_probe:
            self._probing, self._probe = False, None
        self._streak += 1
        if self.open_since is None:
            attempts = self._attempts[entry] = self._attempts.get(entry, 0) + 1
            # An outage (connection, timeout, Retry) never fails an item one by one, however
            # it flaps: it feeds the breaker and the job-level bound. Other errors count.
            if exc is not None and outage_type(exc) is None and attempts >= self._max_attempts:
                self._record(work, Rejected(short_reason(exc), "unexpected_failure"))
                return
            if self._streak >= BREAKER_THRESHOLD:
                if exc is not None and outage_type(exc) is None and len(self._streak_types) == 1:
                    logger.error(
                        "job %s: the handler raised %s on %d items in a row: a bug, not an "
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
        elif was_probe:  # still out: probe again later (calls in flight as it opened: no)
            self._probe_delay = min(self._probe_delay * 2, OUTAGE_RETRY_MAX * 8)
            self._probe_at = now + self._probe_delay
        if after is None:
            tries = self._attempts.get(entry, 1)
            after = min(OUTAGE_RETRY_INITIAL * 2 ** (tries - 1), OUTAGE_RETRY_MAX)
            after *= random.uniform(0.5, 1.0)
        self.retried += 1
        if self._watch is not None:
            self._watch.retried(work)
        again = dataclasses.replace(work, in_doubt=in_doubt)
        self._seq += 1
        heapq.heappush(self._later, (now + max(0.0, after), self._seq, again))

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
