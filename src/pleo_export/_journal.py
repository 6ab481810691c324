"""An export run's side of a coordinator: its fenced lease, the renewal, and the journal writes.

``RunJournal`` keeps the order of writes (lease → intents → outcomes → report → confirmations →
purge) and batches them: each write carries every outcome recorded since the last one and the
confirmations waiting, so the intents of the next batch, the outcomes of the last and its
confirmations usually share one transaction. ``critical`` finishes a write whatever cancels
the caller. What to write and when is ``_run``'s business; storage is the coordinator's.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import Awaitable, Sequence
from typing import Final, Protocol, TypeVar

from ._config import LEASE_RENEW_FRACTION, LEASE_SAFETY_FRACTION
from ._errors import CoordinatorError, LeaseHeldError, LeaseLostError
from ._outcome import ItemOutcome, JobRef
from ._port import UpdateResultLike
from .coordination._types import Coordinator, JournalState, Lease, LeaseHeld

__all__ = ["LeaseWatch", "RunJournal", "critical"]

logger: Final = logging.getLogger("pleo_export")

T = TypeVar("T")


async def critical(step: Awaitable[T]) -> T:
    """Await ``step`` to its end even if the caller is cancelled meanwhile, once or repeatedly;
    then re-raise the cancellation. For journal writes that must land whole."""
    task = asyncio.ensure_future(step)
    cancelled = False
    while True:
        try:
            result = await asyncio.shield(task)
        except asyncio.CancelledError:
            if task.done():  # the step itself was cancelled (the loop is closing)
                raise
            cancelled = True
            continue
        break
    if cancelled:
        raise asyncio.CancelledError
    return result


class LeaseWatch(Protocol):
    """What a journal tells about its lease (the worker metrics' lease counters)."""

    def lease_renewed(self) -> None: ...

    def lease_lost(self) -> None: ...


class RunJournal:
    """One export run's lease and journal writes on a ``Coordinator``.

    Args:
        coordinator: where leases and the journal live.
        holder: the lease holder's name (one per worker instance, see ``new_holder``).
        watch: told of each renewal and of the loss of the lease (once), if given.
    """

    def __init__(
        self, coordinator: Coordinator, holder: str, watch: LeaseWatch | None = None
    ) -> None:
        self.coordinator = coordinator
        self.holder = holder
        self._watch = watch
        self.lease: Lease | None = None
        #: Set once a write or renewal found the lease superseded or run out.
        self.lost: LeaseLostError | None = None
        #: The last write's ``CoordinatorError`` while the journal cannot be written (cleared by
        #: the next write that succeeds): stop handing out, keep the outcomes, try again.
        self.outage: CoordinatorError | None = None
        #: Entries whose outcome is in the journal (this run's, or an earlier run's).
        self.journaled: set[uuid.UUID] = set()
        self._waiting: list[ItemOutcome] = []
        self._acks: list[uuid.UUID] = []
        self._writing = asyncio.Lock()
        #: Loop time before which the lease surely has not run out (set by acquire and renew).
        self._valid_until = 0.0
        self._renewer: asyncio.Task[None] | None = None

    @property
    def token(self) -> int:
        """The fencing token of the run's lease (0 before it has one)."""
        return 0 if self.lease is None else self.lease.token

    async def acquire(self, job: JobRef) -> None:
        """Lease the job and its company.

        Raises:
            LeaseHeldError: another holder's live lease is in the way.
        """
        began = asyncio.get_running_loop().time()
        granted = await self.coordinator.acquire(job, self.holder)
        if isinstance(granted, LeaseHeld):
            raise LeaseHeldError(
                str(granted.job_id), str(granted.held_job_id), granted.holder, granted.expires_in
            )
        self.lease = granted
        self._valid_until = began + granted.lease_seconds

    def start_renewing(self) -> None:
        """Renew the lease in the background every third of its term."""
        self._renewer = asyncio.get_running_loop().create_task(self._renew_forever())

    async def _renew_forever(self) -> None:
        lease = self._held()
        while self.lost is None:
            await asyncio.sleep(self._interval(lease))
            try:
                await self._renew(lease)
            except LeaseLostError as exc:
                logger.warning("job %s: %s; stopping this job", lease.job_id, exc)
            except CoordinatorError as exc:  # the next renewal (or write) tries again
                logger.warning("job %s: renewing the lease failed: %s", lease.job_id, exc)

    async def load(self) -> JournalState:
        """What earlier runs journaled for the job; their outcomes count as journaled."""
        state = await self._guarded(self.coordinator.load(self._held()))
        self.journaled.update(outcome.accounting_entry_id for outcome in state.unconfirmed)
        return state

    def provably_held(self) -> bool:
        """Whether the holder's own monotonic clock proves the lease unexpired, with a safety
        margin (``LEASE_SAFETY_FRACTION`` of its term) for the coordinator's clock and the call
        about to start. A loop blocked past the renewal makes this False."""
        if self.lost is not None or self.lease is None:
            return False
        margin = self.lease.lease_seconds * LEASE_SAFETY_FRACTION
        return asyncio.get_running_loop().time() < self._valid_until - margin

    async def ensure_held(self) -> None:
        """Prove the lease before handing an item out: at once when the clock proves it, else
        by renewing it now (which fails with ``LeaseLostError`` if another holder took it).

        Raises:
            LeaseLostError: the lease is lost.
            CoordinatorError: it could not be renewed (the journal is unreachable).
        """
        if self.provably_held():
            return
        await self._renew(self._held())

    async def check(self) -> None:
        """Prove the lease is still the newest before a final event: by a renewal, unless the
        last acquire or renewal left it more than a renewal interval to run (no other holder
        can take an unexpired lease)."""
        lease = self._held()
        now = asyncio.get_running_loop().time()
        if now < self._valid_until - self._interval(lease):
            return
        await self._renew(lease)

    async def _renew(self, lease: Lease) -> None:
        """Renew ``lease``; its term counts from before the call, the safe side."""
        began = asyncio.get_running_loop().time()
        await self._guarded(self.coordinator.renew(lease))
        self._valid_until = began + lease.lease_seconds
        self._renewed()

    @staticmethod
    def _interval(lease: Lease) -> float:
        return lease.lease_seconds * LEASE_RENEW_FRACTION

    def note(self, outcome: ItemOutcome) -> None:
        """Remember an outcome the caller recorded; the next write journals it."""
        self._waiting.append(outcome)

    async def write(self, intents: Sequence[uuid.UUID] = ()) -> None:
        """Journal ``intents``, every outcome noted since the last write, and the waiting
        confirmations, in one transaction (none when there is nothing to write). Writes take
        turns, so an outcome is never journaled by two at once."""
        async with self._writing:
            taken = list(self._waiting)
            fresh = [o for o in taken if o.accounting_entry_id not in self.journaled]
            acks, self._acks = self._acks, []
            if not (intents or fresh or acks):
                return
            try:
                await self._guarded(
                    self.coordinator.write(
                        self._held(), intents=intents, outcomes=fresh, confirmed=acks
                    )
                )
            except BaseException as exc:
                self._acks[:0] = acks
                if isinstance(exc, CoordinatorError) and not isinstance(exc, LeaseLostError):
                    self.outage = exc  # unreachable, full, corrupt: no verdict on the job
                raise
            self.outage = None
            self.journaled.update(o.accounting_entry_id for o in fresh)
            del self._waiting[: len(taken)]

    async def report(
        self,
        send: _Send,
        job_id: uuid.UUID,
        outcomes: Sequence[ItemOutcome],
    ) -> UpdateResultLike:
        """Make sure a batch of outcomes is journaled, then send it; what Pleo answered for is
        confirmed with the next write (an error is an answer too: sending it again would not
        change it)."""
        if any(o.accounting_entry_id not in self.journaled for o in outcomes):
            await self.write()
        answer = await send(job_id, outcomes)
        self._acks.extend(item.accounting_entry_id for item in answer.data)
        self._acks.extend(error.accounting_entry_id for error in answer.errors)
        return answer

    async def close(self, *, purge: bool) -> None:
        """Stop renewing; journal what was recorded but not yet journaled; then purge the job
        (it is final at Pleo) or release the lease for the next run."""
        if self._renewer is not None:
            self._renewer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._renewer
        lease = self.lease
        if lease is None:
            return
        purged = False
        try:
            if self.lost is None and not purge:
                try:
                    await self.write()
                except CoordinatorError as exc:
                    self._log_unjournaled(lease, exc)
            elif self.lost is None:
                try:
                    await self._guarded(self.coordinator.purge(lease))
                except CoordinatorError as exc:  # the job is final: its rows are only clutter
                    logger.warning("job %s: purging the journal failed: %s", lease.job_id, exc)
                else:
                    purged = True  # the purge deleted the lease with the job's rows
        finally:
            if not purged:
                try:
                    await self.coordinator.release(lease)
                except CoordinatorError as exc:  # it lapses after lease_seconds anyway
                    logger.warning("job %s: releasing the lease failed: %s", lease.job_id, exc)

    def _log_unjournaled(self, lease: Lease, exc: CoordinatorError) -> None:
        """The last write failed: name every outcome this process still holds unjournaled."""
        lost = [
            str(o.accounting_entry_id)
            for o in self._waiting
            if o.accounting_entry_id not in self.journaled
        ]
        if lost:
            logger.error(
                "job %s: %d outcome(s) could not be journaled (%s); their items come back in "
                "doubt: %s",
                lease.job_id,
                len(lost),
                exc,
                ", ".join(lost),
            )

    def _held(self) -> Lease:
        if self.lost is not None:
            raise self.lost
        if self.lease is None:
            raise CoordinatorError("the export run holds no lease")
        return self.lease

    async def _guarded(self, call: Awaitable[T]) -> T:
        try:
            return await call
        except LeaseLostError as exc:
            self._lose(exc)
            raise

    def _renewed(self) -> None:
        if self._watch is not None:
            self._watch.lease_renewed()

    def _lose(self, exc: LeaseLostError) -> None:
        """Remember the loss; the watch hears of it once, however many calls find it."""
        if self.lost is None and self._watch is not None:
            self._watch.lease_lost()
        self.lost = exc


class _Send(Protocol):
    """Sends one batch of outcomes for a job (the port's ``report``)."""

    def __call__(
        self, job_id: uuid.UUID, outcomes: Sequence[ItemOutcome], /
    ) -> Awaitable[UpdateResultLike]: ...
