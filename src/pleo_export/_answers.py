"""What a handler answers, and what each answer (or exception) means for its item.

``Booked``, ``Rejected`` and ``Retry`` are a handler's answers, ``JobAbortedError`` its way to
fail the whole job. ``as_outcome`` turns whatever a handler returned into one of the three (a
wrong type is a bug in the handler that fails the item); ``item_rejection`` and ``outage_type``
say what an exception means: a verdict on the item, an ERP that is out, or neither.
``short_reason`` is what Pleo shows people for an unexpected failure. Acting on them is
``_dispatch``'s part.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Final, TypeAlias, TypeVar

from ._errors import PleoError
from ._files import item_failure_type
from ._port import EntryLike
from ._reader import WorkItem
from ._secrets import scrub

__all__ = [
    "Booked",
    "Handler",
    "JobAbortedError",
    "Outcome",
    "Rejected",
    "Retry",
    "as_outcome",
    "item_rejection",
    "outage_type",
    "short_reason",
]

ItemT = TypeVar("ItemT", bound=EntryLike)
ExportT = TypeVar("ExportT", bound=EntryLike)

_REASON_MAX: Final = 200


@dataclass(frozen=True, slots=True)
class Booked:
    """A handler's answer: the item is in the accounting system.

    Attributes:
        external_id: the ERP's id of the booking (voucher number…), if it has one.
        external_url: a link to the booking in the ERP.
        exported_at: when it was booked (timezone-aware); default: when the run records it.
    """

    external_id: str | None = None
    external_url: str | None = None
    exported_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class Rejected:
    """A handler's answer: the item could not be exported.

    Attributes:
        reason: what went wrong, in words the user can act on in Pleo.
        reason_type: an item-level ``ExportJobItemFailureReasonType`` value, e.g.
            ``"vendor_unknown"`` or ``"account_unknown"`` (v3), ``"validation_failure"``.
    """

    reason: str
    reason_type: str | None = "validation_failure"


@dataclass(frozen=True, slots=True)
class Retry:
    """A handler's answer: not now (the ERP is down, busy or rate limiting). The item is not
    reported and is offered again later in the same run, *not* in doubt (the handler says it
    booked nothing).

    Attributes:
        after: seconds to wait before offering it again; default an exponential back-off
            with jitter.
        reason: why, for the log.
        reason_type: the job-level reason to fail the job with if the outage outlasts the
            bound: ``"accounting_system_unreachable"`` (default),
            ``"accounting_system_rate_limit"``, ``"accounting_system_timeout"`` or
            ``"accounting_system_authentication_failure"``.
    """

    after: float | None = None
    reason: str = ""
    reason_type: str = "accounting_system_unreachable"


class JobAbortedError(PleoError):
    """Raise from a handler to fail the whole job now (ERP credentials revoked…).

    Args:
        reason: shown in Pleo on the job.
        reason_type: a job-level ``ExportJobFailureReasonType`` value.
    """

    def __init__(
        self, reason: str, *, reason_type: str = "accounting_system_authentication_failure"
    ) -> None:
        super().__init__(reason)
        self.reason = reason
        self.reason_type = reason_type


Outcome: TypeAlias = Booked | Rejected | Retry
#: ``handler(work) -> Booked | Rejected | Retry``, sync or async, given a ``WorkItem``.
Handler: TypeAlias = Callable[[WorkItem[ItemT, ExportT]], Outcome | Awaitable[Outcome]]


def short_reason(exc: BaseException) -> str:
    """What Pleo shows for an unexpected failure: the type and a scrubbed, bounded first line
    (never a traceback, a thread id or a path)."""
    lines = str(exc).strip().splitlines()
    first = scrub(lines[0]) if lines else ""
    text = f"{type(exc).__name__}: {first}" if first else type(exc).__name__
    return text if len(text) <= _REASON_MAX else text[: _REASON_MAX - 1] + "…"


def outage_type(exc: BaseException) -> str | None:
    """The job-level reason an exception says the ERP is out with, or None if unclassified."""
    if isinstance(exc, TimeoutError):
        return "accounting_system_timeout"
    if isinstance(exc, OSError):  # ConnectionError & co.
        return "accounting_system_unreachable"
    return None


def as_outcome(answer: object) -> Outcome:
    """A handler's answer as an ``Outcome``; anything else is a bug in the handler, which fails
    the item (``unexpected_failure``, with a reason saying what it returned)."""
    if isinstance(answer, Booked | Rejected | Retry):
        return answer
    kind = type(answer).__name__
    error = TypeError(f"the handler returned {kind}, not Booked, Rejected or Retry")
    return Rejected(short_reason(error), "unexpected_failure")


def item_rejection(exc: BaseException) -> Rejected | None:
    """The rejection an exception is a verdict on its item with (a receipt that could not be
    downloaded says so: ``receipt_download_failure``…), or None."""
    kind = item_failure_type(exc)
    return None if kind is None else Rejected(short_reason(exc), kind)
