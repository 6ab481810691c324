"""The coordinator contract: the ``Coordinator`` protocol and the values it hands out.

Holds ``Lease``, ``LeaseHeld``, ``JournalState``, the protocol and the shortcuts every backend
inherits; the lease policy and argument checks are in ``_policy``, storage in the backends.
"""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal, Protocol, runtime_checkable

from .._outcome import ItemOutcome, JobRef

__all__ = [
    "Coordinator",
    "JournalShortcuts",
    "JournalState",
    "Lease",
    "LeaseHeld",
    "TokenGrant",
    "new_holder",
]


@dataclass(frozen=True, slots=True)
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


@dataclass(frozen=True, slots=True)
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


@dataclass(frozen=True, slots=True)
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


@dataclass(frozen=True, slots=True)
class TokenGrant:
    """What ``take_tokens`` gave: the tokens asked for and when they may be spent, or (during
    a pause) none and how long the pause lasts.

    Attributes:
        granted: tokens granted: the whole ``count`` asked for, or 0 during a pause.
        wait: seconds until the granted tokens may be spent (0: now); with none granted, until
            the pause ends.
    """

    granted: int
    wait: float = 0.0


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

    async def take_tokens(
        self, key: str, *, count: int, rate: float, capacity: int, pause: float = 0.0
    ) -> TokenGrant:
        """Reserve ``count`` tokens of the shared request budget ``key``.

        The budget is a token bucket in the store, refilled at ``rate`` tokens a second (the
        caller's rate: processes sharing a key should give the same) up to ``capacity``, and
        full when first used. The tokens are granted at once but may only be spent after the
        grant's ``wait``: the bucket goes below zero, so callers are served in the order they
        asked and none asks twice for one block. ``pause`` > 0 says the caller was told to back
        off (a 429): the bucket grants nothing for that many seconds, to anyone. Every process
        with the same ``key`` (derived from a credential, never the credential itself) shares
        one bucket; one call is one short transaction, so callers take tokens in small blocks.

        Raises:
            InvalidArgumentError: a bad argument.
            CoordinatorError: the database failed; nothing was taken.
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


def new_holder() -> str:
    """A holder name unique to this worker instance: host, process id and a random suffix."""
    return f"{socket.gethostname()[:64]}:{os.getpid()}:{uuid.uuid4().hex[:12]}"
