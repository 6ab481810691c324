"""The lease policy and the argument checks every coordinator backend shares.

Plain functions of stored lease rows and a clock reading (which lease blocks an acquire, whether
a writer's lease is still current) and of the caller's arguments; no storage, no I/O.
"""

from __future__ import annotations

import asyncio
import json
import math
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from .._errors import CoordinatorError, InvalidArgumentError, LeaseLostError
from .._outcome import ItemOutcome, JobRef
from ._types import JournalState, Lease, LeaseHeld

__all__ = [
    "LeaseRow",
    "check_lease",
    "decide",
    "journal_state",
    "lease_row",
    "mark_exception_seen",
    "unique_ids",
    "unique_outcomes",
    "valid_holder",
    "valid_job",
    "valid_lease",
    "valid_lease_seconds",
    "valid_timeout",
]

#: How much of a stored value a corruption error quotes.
_QUOTE_CHARS = 60

#: Holder names longer than this are refused (they are stored and echoed in ``LeaseHeld``).
_HOLDER_MAX_CHARS = 200


@dataclass(frozen=True, slots=True)
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


def mark_exception_seen(future: asyncio.Future[Any]) -> None:
    """A done callback that marks a background or shielded future's exception as retrieved.

    Whoever awaits the future still gets the exception; when its caller was cancelled
    meanwhile, asyncio no longer logs "exception was never retrieved" for it.
    """
    if not future.cancelled():
        future.exception()


def _corrupt(where: str, table: str, row: str, exc: BaseException) -> CoordinatorError:
    """A ``CoordinatorError`` naming the table and row that does not parse (values cut short)."""
    return CoordinatorError(
        f"{where}: the {table} row {row[: _QUOTE_CHARS * 2]} is corrupt "
        f"({type(exc).__name__}: {str(exc)[:_QUOTE_CHARS]}); nothing was read from it"
    )


def _uuid(value: object) -> uuid.UUID:
    return value if isinstance(value, uuid.UUID) else uuid.UUID(str(value))


def journal_state(rows: Iterable[Sequence[Any]], *, where: str, table: str) -> JournalState:
    """The journal of ``(entry_id, state, outcome JSON)`` rows, each checked as it is parsed.

    Raises:
        CoordinatorError: a row does not parse (an entry id that is no UUID, an outcome that is
            not the JSON record ``ItemOutcome.to_record`` wrote, or the record of another
            entry), naming ``table`` and the row; nothing is returned, so nothing is reported
            from it.
    """
    unconfirmed: list[ItemOutcome] = []
    in_doubt: set[uuid.UUID] = set()
    confirmed: set[uuid.UUID] = set()
    for entry, state, outcome in rows:
        try:
            entry_id = _uuid(entry)
            if state == "outcome":
                parsed = ItemOutcome.from_record(json.loads(outcome))
                if parsed.accounting_entry_id != entry_id:
                    raise ValueError(f"the outcome is for entry {parsed.accounting_entry_id}")
                unconfirmed.append(parsed)
            elif state == "intent":
                in_doubt.add(entry_id)
            elif state == "confirmed":
                confirmed.add(entry_id)
            else:
                raise ValueError(f"unknown state {str(state)[:_QUOTE_CHARS]!r}")
        except (ValueError, TypeError, KeyError, AttributeError) as exc:
            raise _corrupt(where, table, f"entry_id={str(entry)[:_QUOTE_CHARS]!r}", exc) from exc
    return JournalState(
        unconfirmed=tuple(unconfirmed), in_doubt=frozenset(in_doubt), confirmed=frozenset(confirmed)
    )


def lease_row(
    job_id: object, holder: object, token: object, expires_at: object, *, where: str, row: str
) -> LeaseRow:
    """A stored lease row, checked: a job id that is a UUID, an integer token, a holder that is
    text or NULL, an expiry that is a number or NULL.

    Raises:
        CoordinatorError: the row does not parse, naming it (``row``, e.g. the table and key).
    """
    try:
        if holder is not None and not isinstance(holder, str):
            raise TypeError(f"holder is {type(holder).__name__}")
        if isinstance(token, bool) or not isinstance(token, int):
            raise TypeError(f"token is {type(token).__name__}")
        if expires_at is not None and not isinstance(expires_at, int | float):
            raise TypeError(f"expires_at is {type(expires_at).__name__}")
        return LeaseRow(_uuid(job_id), holder, token, expires_at)
    except (ValueError, TypeError) as exc:
        table, _, key = row.partition(" ")
        raise _corrupt(where, table, key, exc) from exc


def valid_timeout(value: object) -> float:
    """A coordinator's call ``timeout``: a positive, finite number of seconds.

    Raises:
        InvalidArgumentError: anything else (a bool included).
    """
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InvalidArgumentError(
            "timeout", f"must be a number of seconds, not {type(value).__name__}"
        )
    if not math.isfinite(value) or value <= 0:
        raise InvalidArgumentError("timeout", "must be a positive, finite number of seconds")
    return float(value)
