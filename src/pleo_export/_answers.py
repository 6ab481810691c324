"""What a handler answers, and what each answer (or exception) means for its item.

``Booked``, ``Rejected`` and ``Retry`` are a handler's answers, ``JobAbortedError`` its way to
fail the whole job; a batch handler answers one of them per item (``BatchAnswer``). ``asker``
makes either form of handler one call of a batch of items returning one raw answer each (a
batch answer that does not fit its batch raises ``BatchAnswerError``); ``as_outcome`` turns a
raw answer into an ``Outcome`` (a wrong type is a bug in the handler that fails the item);
``item_rejection`` and ``outage_type`` say what an exception means: a verdict on the item, an
ERP that is out, or neither. ``short_reason`` is what Pleo shows people for an unexpected
failure. Acting on them is ``_dispatch``'s part.
"""

from __future__ import annotations

import inspect
import uuid
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Final, TypeAlias, TypeVar, cast

from ._errors import PleoError
from ._outcome import Booked, Outcome, Rejected, Retry
from ._port import EntryLike
from ._secrets import scrub
from ._work import WorkItem, item_failure_type

__all__ = [
    "Ask",
    "BatchAnswer",
    "BatchAnswerError",
    "BatchHandler",
    "Booked",
    "Handler",
    "JobAbortedError",
    "Outcome",
    "Rejected",
    "Retry",
    "as_outcome",
    "asker",
    "fit_batch",
    "item_rejection",
    "outage_type",
    "short_reason",
]

ItemT = TypeVar("ItemT", bound=EntryLike)
ExportT = TypeVar("ExportT", bound=EntryLike)

_REASON_MAX: Final = 200


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


#: ``handler(work) -> Booked | Rejected | Retry``, sync or async, given a ``WorkItem``.
Handler: TypeAlias = Callable[[WorkItem[ItemT, ExportT]], Outcome | Awaitable[Outcome]]
#: A batch handler's answer: one ``Outcome`` per item, by accounting entry id or in the order
#: the items were given.
BatchAnswer: TypeAlias = Mapping[uuid.UUID, Outcome] | Sequence[Outcome]
#: ``handler(batch) -> BatchAnswer``, sync or async, given up to ``batch_size`` work items.
BatchHandler: TypeAlias = Callable[
    [Sequence[WorkItem[ItemT, ExportT]]], BatchAnswer | Awaitable[BatchAnswer]
]
#: One handler call for a batch of items (one item for a single-item handler): a raw answer
#: per item, in order.
Ask: TypeAlias = Callable[[Sequence[WorkItem[ItemT, ExportT]]], Awaitable[list[object]]]


class BatchAnswerError(PleoError):
    """A batch handler's answer does not fit its batch: an entry id missing or not in the
    batch, a sequence of the wrong length, or neither a mapping nor a sequence. A bug in the
    handler, treated as if it had raised: every item of the batch is offered again in doubt
    (the ERP may have booked some), and fails ``unexpected_failure`` after its attempts."""


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


def asker(
    handler: Handler[ItemT, ExportT] | BatchHandler[ItemT, ExportT], batch_size: int | None
) -> Ask[ItemT, ExportT]:
    """``handler`` as one call of a batch: a single-item handler (``batch_size`` None) is given
    the batch's one item, a batch handler the whole batch as a tuple."""
    if batch_size is None:
        one = cast("Handler[ItemT, ExportT]", handler)

        async def ask_one(batch: Sequence[WorkItem[ItemT, ExportT]]) -> list[object]:
            answer: object = one(batch[0])
            if inspect.isawaitable(answer):
                answer = await answer
            return [answer]

        return ask_one
    many = cast("BatchHandler[ItemT, ExportT]", handler)

    async def ask_many(batch: Sequence[WorkItem[ItemT, ExportT]]) -> list[object]:
        answer: object = many(tuple(batch))
        if inspect.isawaitable(answer):
            answer = await answer
        return fit_batch(batch, answer)

    return ask_many


def fit_batch(batch: Sequence[WorkItem[EntryLike, EntryLike]], answer: object) -> list[object]:
    """A batch handler's answer as one raw answer per item of ``batch``, in order.

    Raises:
        BatchAnswerError: the answer does not fit the batch.
    """
    if isinstance(answer, Mapping):
        entries = [work.accounting_entry_id for work in batch]
        given = set(entries)
        missing = [entry for entry in entries if entry not in answer]
        unknown = [key for key in answer if key not in given]
        if missing or unknown:
            raise BatchAnswerError(
                f"the batch handler answered {len(answer)} entries for a batch of "
                f"{len(batch)}: {len(missing)} missing (first {_first(missing)}), "
                f"{len(unknown)} not in the batch (first {_first(unknown)})"
            )
        return [answer[entry] for entry in entries]
    if isinstance(answer, Sequence) and not isinstance(answer, str | bytes):
        if len(answer) != len(batch):
            raise BatchAnswerError(
                f"the batch handler answered {len(answer)} outcomes for a batch of {len(batch)}"
            )
        return list(answer)
    raise BatchAnswerError(
        f"the batch handler returned {type(answer).__name__}, not a mapping by accounting "
        "entry id or a sequence in the batch's order"
    )


def _first(values: Sequence[object]) -> str:
    return scrub(repr(values[0]))[:60] if values else "-"
