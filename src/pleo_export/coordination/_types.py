"""The coordinator contract: the ``Coordinator`` protocol and the values it hands out.

Holds what every backend shares — ``Lease``, ``LeaseHeld``, ``JournalState``, the protocol and
the lease policy as plain functions of rows and a clock reading — and no storage at all.
"""

from __future__ import annotations

import math
import os
import socket
import uuid
from collections.abc import Iterable, Sequence
from typing import Literal, Protocol, runtime_checkable

import attrs

from .._errors import InvalidArgumentError, LeaseLostError
from .._outcome import ItemOutcome, JobRef

__all__ = [
    "Coordinator",
    "JournalShortcuts",
    "JournalState",
    "Lease",
    "LeaseHeld",
    "LeaseRow",
    "check_lease",
    "decide",
    "new_holder",
    "unique_ids",
    "unique_outcomes",
    "valid_holder",
    "valid_job",
    "valid_lease",
    "valid_lease_seconds",
]

#: Holder names longer than this are refused (they are stored and echoed in ``LeaseHeld``).
_HOLDER_MAX_CHARS = 200


@attrs.frozen(slots=True)
class Lease:
    """The right to work on one export job (and, while held, its company), with a fencing token.

    Attributes:
        job_id: the export job.
        company_id: its company, leased with it (``None`` when the job's company is unknown).
        holder: who holds it: a worker instance's name, see ``new_holder()``.
        token: the fencing token: larger than every token handed out for this job before, by
            any coordinator on the same store, across releases, expiries and restarts.
        lease_seconds: the lease lapses this long after it was taken or last renewed; renew
            well before (a third of it is a good interval).
    """

    job_id: uuid.UUID
    company_id: uuid.UUID | None
    holder: str
    token: int
    lease_seconds: float


@attrs.frozen(slots=True)
class LeaseHeld:
    """Why ``acquire`` did not grant a lease: a live lease of someone else is in the way.

    Attributes:
        job_id: the job that was asked for.
        reason: ``"job"`` when the job itself is leased, ``"company"`` when another job of the
            same company is (Pleo runs one export job per company at a time).
        held_job_id: the job whose lease is in the way (``job_id`` itself for ``"job"``).
        holder: the holder of that lease.
        expires_in: seconds until that lease lapses unless renewed.
    """

    job_id: uuid.UUID
    reason: Literal["job", "company"]
    held_job_id: uuid.UUID
    holder: str
    expires_in: float


@attrs.frozen(slots=True)
class JournalState:
    """What a job's journal holds, read on resume.

    Attributes:
        unconfirmed: outcomes journaled but not yet confirmed as accepted by Pleo: report them
            from here, without calling the handler.
        in_doubt: entries with an intent and no outcome: the handler may or may not have
            booked them; offer them again marked in doubt.
        confirmed: entries whose outcome Pleo accepted.
    """

    unconfirmed: tuple[ItemOutcome, ...] = ()
    in_doubt: frozenset[uuid.UUID] = frozenset()
    confirmed: frozenset[uuid.UUID] = frozenset()

    @property
    def is_empty(self) -> bool:
        """Whether the journal holds nothing for the job."""
        return not (self.unconfirmed or self.in_doubt or self.confirmed)


@runtime_checkable
class Coordinator(Protocol):
    """Fenced leases on export jobs and a durable journal of what was done for their items.

    The order of writes that makes a booking happen once: ``acquire`` → intents (before the
    handler) → outcomes (before reporting to Pleo) → confirmations (after Pleo accepted the
    report) → ``purge`` (once the job is final); ``write`` journals any mix of the three in one
    transaction. Every call that takes a ``Lease`` checks, in the same database transaction as
    its write, that the lease's token is still the newest for its job and unexpired, and raises
    ``LeaseLostError`` otherwise — so a superseded holder can never write. No call holds a
    transaction across anything but database work, and a cancelled call still finishes (or
    rolls back) its transaction.
    """

    @property
    def lease_seconds(self) -> float:
        """Seconds a lease lasts after it was taken or last renewed."""
        ...

    async def acquire(self, job: JobRef, holder: str) -> Lease | LeaseHeld:
        """Lease ``job`` and its company for ``holder``, with a new fencing token.

        Granted when no live lease of another holder is on the job and no live lease of another
        job is on its company; a live lease of the same ``holder`` on the job is taken over
        with a new token (a restarted worker instance reclaims its job at once). An expired
        lease is taken over whoever held it.

        Returns:
            the new ``Lease``, or ``LeaseHeld`` saying whose lease is in the way.

        Raises:
            CoordinatorError: the database failed.
        """
        ...

    async def renew(self, lease: Lease) -> None:
        """Extend the lease (job and company) to ``lease_seconds`` from now.

        Raises:
            LeaseLostError: the lease was superseded, released or had already run out.
        """
        ...

    async def release(self, lease: Lease) -> None:
        """Give up the lease (job and company); a no-op when it is no longer this lease's."""
        ...

    async def write(
        self,
        lease: Lease,
        *,
        intents: Iterable[uuid.UUID] = (),
        outcomes: Iterable[ItemOutcome] = (),
        confirmed: Iterable[uuid.UUID] = (),
    ) -> None:
        """Journal intents, then outcomes, then confirmations, in one transaction.

        ``intents``: entries about to be handed to the handler. An entry with no journal row
        gets an intent; one that already has an intent (in doubt) gets this lease's token and
        one more attempt; one with an outcome is left alone.

        ``outcomes``: outcomes about to be reported to Pleo. The first outcome journaled for
        an entry stands: a later one for the same entry (or a second one in the same call) is
        ignored, so a reported status can never flip.

        ``confirmed``: entries whose journaled outcome Pleo accepted. Entries without a
        journaled outcome are left as they are; confirming twice is harmless.

        One call per batch (say, the next batch's intents, this batch's outcomes and the last
        batch's confirmations) costs one transaction, where the three ``record_*``/``confirm``
        shortcuts cost three. Repeated entry ids count once.

        Raises:
            LeaseLostError: the lease is not the newest or has run out; nothing was written.
            CoordinatorError: the database failed; nothing was written.
        """
        ...

    async def record_intents(self, lease: Lease, entry_ids: Iterable[uuid.UUID]) -> None:
        """``write(lease, intents=entry_ids)``: journal entries about to go to the handler."""
        ...

    async def record_outcomes(self, lease: Lease, outcomes: Iterable[ItemOutcome]) -> None:
        """``write(lease, outcomes=outcomes)``: journal outcomes about to be reported."""
        ...

    async def confirm(self, lease: Lease, entry_ids: Iterable[uuid.UUID]) -> None:
        """``write(lease, confirmed=entry_ids)``: mark outcomes as accepted by Pleo."""
        ...

    async def load(self, lease: Lease) -> JournalState:
        """Read the job's journal, to resume it under this lease.

        Raises:
            LeaseLostError: the lease is not the newest or has run out.
        """
        ...

    async def purge(self, lease: Lease) -> None:
        """Delete the job's journal and lease rows, once Pleo says the job is final and every
        outcome is confirmed; tokens stay monotonic (they come from one counter per store).

        Raises:
            LeaseLostError: the lease is not the newest or has run out; nothing was deleted.
        """
        ...

    async def aclose(self) -> None:
        """Close the coordinator's connections; it cannot be used afterwards."""
        ...


class JournalShortcuts:
    """``record_intents``, ``record_outcomes`` and ``confirm`` for a class that has ``write``."""

    async def write(
        self,
        lease: Lease,
        *,
        intents: Iterable[uuid.UUID] = (),
        outcomes: Iterable[ItemOutcome] = (),
        confirmed: Iterable[uuid.UUID] = (),
    ) -> None:
        """Journal in one transaction; each backend implements it."""
        raise NotImplementedError

    async def record_intents(self, lease: Lease, entry_ids: Iterable[uuid.UUID]) -> None:
        """``write(lease, intents=entry_ids)``: journal entries about to go to the handler."""
        await self.write(lease, intents=entry_ids)

    async def record_outcomes(self, lease: Lease, outcomes: Iterable[ItemOutcome]) -> None:
        """``write(lease, outcomes=outcomes)``: journal outcomes about to be reported."""
        await self.write(lease, outcomes=outcomes)

    async def confirm(self, lease: Lease, entry_ids: Iterable[uuid.UUID]) -> None:
        """``write(lease, confirmed=entry_ids)``: mark outcomes as accepted by Pleo."""
        await self.write(lease, confirmed=entry_ids)


@attrs.frozen(slots=True)
class LeaseRow:
    """A stored lease (of a job, or of a company), as the policy reads it.

    ``holder`` is ``None`` once released; ``expires_at`` is on the same clock as ``now``.
    """

    job_id: uuid.UUID
    holder: str | None
    token: int
    expires_at: float | None

    def live(self, now: float) -> tuple[str, float] | None:
        """``(holder, seconds left)`` while someone holds this lease at ``now``, else ``None``."""
        if self.holder is None or self.expires_at is None or self.expires_at <= now:
            return None
        return self.holder, self.expires_at - now


def decide(
    job_id: uuid.UUID,
    holder: str,
    job_row: LeaseRow | None,
    company_row: LeaseRow | None,
    now: float,
) -> LeaseHeld | None:
    """Whose live lease stops ``holder`` from leasing ``job_id``, or ``None`` when it may."""
    live = None if job_row is None else job_row.live(now)
    if live is not None and live[0] != holder:
        return LeaseHeld(job_id, "job", job_id, live[0], live[1])
    live = None if company_row is None else company_row.live(now)
    if live is not None and company_row is not None and company_row.job_id != job_id:
        return LeaseHeld(job_id, "company", company_row.job_id, live[0], live[1])
    return None


def check_lease(lease: Lease, job_row: LeaseRow | None, now: float) -> None:
    """Raise ``LeaseLostError`` unless ``lease`` is the job's newest lease and unexpired."""
    reason = None
    if job_row is None:
        reason = "no lease on record (purged or never taken)"
    elif job_row.token != lease.token:
        reason = f"superseded by token {job_row.token}"
    elif job_row.holder is None or job_row.expires_at is None:
        reason = "released"
    elif job_row.expires_at <= now:
        reason = f"expired {now - job_row.expires_at:.3f} s ago"
    if reason is not None:
        raise LeaseLostError(str(lease.job_id), lease.token, reason)


def valid_lease_seconds(lease_seconds: float) -> float:
    """``lease_seconds`` as a float, or ``InvalidArgumentError`` unless finite and positive."""
    value = float(lease_seconds)
    if not math.isfinite(value) or value <= 0:
        raise InvalidArgumentError("lease_seconds", f"must be a positive number, got {value!r}")
    return value


def valid_holder(holder: str) -> str:
    """``holder``, or ``InvalidArgumentError`` unless a non-empty string of at most 200 chars."""
    if not isinstance(holder, str) or not holder or len(holder) > _HOLDER_MAX_CHARS:
        raise InvalidArgumentError(
            "holder", f"must be a non-empty string of at most {_HOLDER_MAX_CHARS} characters"
        )
    return holder


def new_holder() -> str:
    """A holder name unique to this worker instance: host, process id and a random suffix."""
    return f"{socket.gethostname()[:64]}:{os.getpid()}:{uuid.uuid4().hex[:12]}"


def unique_ids(entry_ids: Iterable[uuid.UUID], argument: str) -> list[uuid.UUID]:
    """The entry ids in first-seen order, without repeats; ``InvalidArgumentError`` naming
    ``argument`` unless it is an iterable of ``uuid.UUID``."""
    ids: dict[uuid.UUID, None] = {}
    for entry_id in _listed(entry_ids, argument):
        if not isinstance(entry_id, uuid.UUID):
            raise InvalidArgumentError(
                argument, f"must hold uuid.UUID values, not {_kind(entry_id)}"
            )
        ids[entry_id] = None
    return list(ids)


def unique_outcomes(outcomes: Iterable[ItemOutcome]) -> Sequence[ItemOutcome]:
    """The first outcome for each entry, in first-seen order; ``InvalidArgumentError`` unless
    ``outcomes`` is an iterable of ``ItemOutcome``."""
    first: dict[uuid.UUID, ItemOutcome] = {}
    for outcome in _listed(outcomes, "outcomes"):
        if not isinstance(outcome, ItemOutcome):
            raise InvalidArgumentError(
                "outcomes", f"must hold ItemOutcome values, not {_kind(outcome)}"
            )
        first.setdefault(outcome.accounting_entry_id, outcome)
    return list(first.values())


def _listed(values: Iterable[object], argument: str) -> list[object]:
    if isinstance(values, str | bytes):
        raise InvalidArgumentError(argument, f"must be an iterable of values, not {_kind(values)}")
    try:
        return list(values)
    except TypeError:
        raise InvalidArgumentError(argument, f"must be an iterable, not {_kind(values)}") from None


def valid_job(job: JobRef) -> JobRef:
    """``job``, or ``InvalidArgumentError`` unless it is a ``JobRef``."""
    if not isinstance(job, JobRef):
        raise InvalidArgumentError("job", f"must be a JobRef, not {_kind(job)}")
    return job


def valid_lease(lease: Lease) -> Lease:
    """``lease``, or ``InvalidArgumentError`` unless it is a ``Lease`` from ``acquire``."""
    if not isinstance(lease, Lease):
        raise InvalidArgumentError("lease", f"must be a Lease from acquire(), not {_kind(lease)}")
    return lease


def _kind(value: object) -> str:
    return type(value).__name__
