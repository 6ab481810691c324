"""``InMemoryCoordinator``: leases and a journal in this process's memory.

The default when no coordinator is configured. It fences tasks of one process against each
other and survives a cancelled run, but not a crash, a restart or a second process.
"""

from __future__ import annotations

import itertools
import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass

from .._config import DEFAULT_LEASE_SECONDS
from .._errors import CoordinatorError
from .._outcome import ItemOutcome, JobRef
from ._budget import Bucket, take, valid_take
from ._policy import (
    LeaseRow,
    check_lease,
    decide,
    unique_ids,
    unique_outcomes,
    valid_holder,
    valid_job,
    valid_lease,
    valid_lease_seconds,
)
from ._types import JournalShortcuts, JournalState, Lease, LeaseHeld, TokenGrant

__all__ = ["InMemoryCoordinator"]


@dataclass(slots=True)
class _Entry:
    state: str
    token: int
    attempts: int
    outcome: ItemOutcome | None = None


class InMemoryCoordinator(JournalShortcuts):
    """A ``Coordinator`` for one process: nothing outlives it.

    Every method runs without awaiting anything, so each is atomic on its event loop. It does
    not protect against a crash (the journal is lost: the next run treats every entry as new),
    nor against a second process or machine working on the same Pleo account.

    Args:
        lease_seconds: a lease lapses this long after it was taken or renewed (default 30.0).

    Raises:
        InvalidArgumentError: ``lease_seconds`` is not a positive number.
    """

    def __init__(self, *, lease_seconds: float = DEFAULT_LEASE_SECONDS) -> None:
        self._lease_seconds = valid_lease_seconds(lease_seconds)
        self._tokens = itertools.count(1)
        self._jobs: dict[uuid.UUID, LeaseRow] = {}
        self._companies: dict[uuid.UUID, LeaseRow] = {}
        self._journal: dict[uuid.UUID, dict[uuid.UUID, _Entry]] = {}
        self._buckets: dict[str, Bucket] = {}
        self._closed = False

    def __repr__(self) -> str:
        return f"InMemoryCoordinator(lease_seconds={self._lease_seconds})"

    @property
    def lease_seconds(self) -> float:
        """Seconds a lease lasts after it was taken or last renewed."""
        return self._lease_seconds

    async def acquire(self, job: JobRef, holder: str) -> Lease | LeaseHeld:
        """Lease ``job`` and its company for ``holder`` (see ``Coordinator.acquire``)."""
        self._open()
        valid_job(job)
        valid_holder(holder)
        now = time.monotonic()
        company_row = None if job.company_id is None else self._companies.get(job.company_id)
        held = decide(job.job_id, holder, self._jobs.get(job.job_id), company_row, now)
        if held is not None:
            return held
        token = next(self._tokens)
        row = LeaseRow(job.job_id, holder, token, now + self._lease_seconds)
        self._jobs[job.job_id] = row
        if job.company_id is not None:
            self._companies[job.company_id] = row
        return Lease(job.job_id, job.company_id, holder, token, self._lease_seconds)

    async def renew(self, lease: Lease) -> None:
        """Extend the lease to ``lease_seconds`` from now (see ``Coordinator.renew``)."""
        valid_lease(lease)
        self._check(lease)
        row = LeaseRow(
            lease.job_id, lease.holder, lease.token, time.monotonic() + self.lease_seconds
        )
        self._jobs[lease.job_id] = row
        if lease.company_id is not None:
            self._companies[lease.company_id] = row

    async def release(self, lease: Lease) -> None:
        """Give up the lease if it is still this one (see ``Coordinator.release``)."""
        valid_lease(lease)
        self._open()
        row = self._jobs.get(lease.job_id)
        if row is not None and row.token == lease.token:
            self._jobs[lease.job_id] = LeaseRow(lease.job_id, None, lease.token, None)
        self._drop_company(lease)

    async def write(
        self,
        lease: Lease,
        *,
        intents: Iterable[uuid.UUID] = (),
        outcomes: Iterable[ItemOutcome] = (),
        confirmed: Iterable[uuid.UUID] = (),
    ) -> None:
        """Journal intents, outcomes and confirmations at once (see ``Coordinator.write``)."""
        valid_lease(lease)
        intent_ids, firsts, confirm_ids = (
            unique_ids(intents, "intents"),
            unique_outcomes(outcomes),
            unique_ids(confirmed, "confirmed"),
        )
        self._check(lease)
        journal = self._journal.setdefault(lease.job_id, {})
        for entry_id in intent_ids:
            entry = journal.get(entry_id)
            if entry is None:
                journal[entry_id] = _Entry("intent", lease.token, 1)
            elif entry.state == "intent":
                entry.token = lease.token
                entry.attempts += 1
        for outcome in firsts:
            entry = journal.get(outcome.accounting_entry_id)
            if entry is None:
                journal[outcome.accounting_entry_id] = _Entry("outcome", lease.token, 0, outcome)
            elif entry.state == "intent":
                entry.state, entry.token, entry.outcome = "outcome", lease.token, outcome
        for entry_id in confirm_ids:
            entry = journal.get(entry_id)
            if entry is not None and entry.state == "outcome":
                entry.state = "confirmed"

    async def load(self, lease: Lease) -> JournalState:
        """Read the job's journal (see ``Coordinator.load``)."""
        valid_lease(lease)
        self._check(lease)
        journal = self._journal.get(lease.job_id, {})
        return JournalState(
            unconfirmed=tuple(
                e.outcome for e in journal.values() if e.state == "outcome" and e.outcome
            ),
            in_doubt=frozenset(k for k, e in journal.items() if e.state == "intent"),
            confirmed=frozenset(k for k, e in journal.items() if e.state == "confirmed"),
        )

    async def purge(self, lease: Lease) -> None:
        """Forget the job's journal and lease (see ``Coordinator.purge``)."""
        valid_lease(lease)
        self._check(lease)
        self._journal.pop(lease.job_id, None)
        del self._jobs[lease.job_id]
        self._drop_company(lease)

    async def take_tokens(
        self, key: str, *, count: int, rate: float, capacity: int, pause: float = 0.0
    ) -> TokenGrant:
        """Take tokens from the request budget ``key`` (see ``Coordinator.take_tokens``); in
        memory, so shared by this process's clients only."""
        valid_take(key, count, rate, capacity, pause)
        self._open()
        bucket, grant = take(
            self._buckets.get(key),
            time.monotonic(),
            count=count,
            rate=rate,
            capacity=capacity,
            pause=pause,
        )
        self._buckets[key] = bucket
        return grant

    async def aclose(self) -> None:
        """Drop everything; later calls raise ``CoordinatorError``."""
        self._closed = True
        self._buckets.clear()
        self._jobs.clear()
        self._companies.clear()
        self._journal.clear()

    def _drop_company(self, lease: Lease) -> None:
        if lease.company_id is not None:
            company = self._companies.get(lease.company_id)
            if company is not None and company.token == lease.token:
                del self._companies[lease.company_id]

    def _open(self) -> None:
        if self._closed:
            raise CoordinatorError("the coordinator is closed")

    def _check(self, lease: Lease) -> None:
        self._open()
        check_lease(lease, self._jobs.get(lease.job_id), time.monotonic())
