"""The sync ``ExportRun``: ``with pleo.export_run(job) as run: for work in run.pending(): …``.

Each part is the async run's, on the portal: entering and leaving are its ``__aenter__`` and
``__aexit__`` (an exception or ``KeyboardInterrupt`` in the block reaches it as it is, so the
job is failed, or left ``in_progress`` to resume, exactly as in async code); ``pending()``
hands out one item per round trip, so the run's own checks between items (a lost lease, an
undeliverable batch) apply to each; ``succeeded``/``failed`` record on the loop's thread;
``process`` is the async engine with a plain handler in a thread pool of its own (``_pool``).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import datetime
from types import TracebackType
from typing import Any, Final, Generic, Self, TypeVar, cast, overload

import pleo_export
from pleo_export import RunStats, WorkItem
from pleo_export.models import (
    ExportItemV2,
    ExportItemV3,
    ExportJob,
    ExportJobItem,
    ExportJobItemUpdateError,
    ExportJobItemUpdateErrorV3,
    ExportJobItemV3,
    ExportJobV3,
)

from ._core import AsyncClosable, Core
from ._defaults import keyword_defaults
from ._pool import BatchHandler, Handler, HandlerPool
from ._portal import Portal
from ._stream import stream

__all__ = ["ExportRun"]

#: ``run.process(handler, ...)``'s defaults.
_PROCESS: Final = keyword_defaults(pleo_export.ExportRun.process)

JobT = TypeVar("JobT", bound=ExportJobV3 | ExportJob)
ItemT = TypeVar("ItemT", bound=ExportJobItemV3 | ExportJobItem)
ExportT = TypeVar("ExportT", bound=ExportItemV3 | ExportItemV2)
#: A per-item error of an update response, of either version.
ItemError = ExportJobItemUpdateErrorV3 | ExportJobItemUpdateError


class ExportRun(Generic[JobT, ItemT, ExportT]):
    """One export job worked through, from ``started`` to its final event (sync)::

        with pleo.export_run(job) as run:
            for work in run.pending():
                run.succeeded(work, external_id=ledger.book(work.export_item))

    See ``pleo_export.ExportRun`` for what entering, recording and leaving do; they are the
    same here.
    """

    def __init__(
        self, core: Core[AsyncClosable], run: pleo_export.ExportRun[JobT, ItemT, ExportT]
    ) -> None:
        self._core = core
        self._generation = core.generation
        self._run = run

    def __repr__(self) -> str:
        return repr(self._run).replace("<ExportRun", "<sync ExportRun", 1)

    @property
    def job_id(self) -> uuid.UUID:
        """The job's id."""
        return self._run.job_id

    @property
    def job(self) -> JobT | None:
        """The job as read when the run began (None before entering, when given an id)."""
        return self._run.job

    @property
    def resumed(self) -> bool:
        """True when the run picked up a job that was already ``in_progress``."""
        return self._run.resumed

    @property
    def claim_confirmed(self) -> bool:
        """False when ``started`` got no clear answer and was concluded from a re-read."""
        return self._run.claim_confirmed

    @property
    def final_status(self) -> str | None:
        """The status the run's final event set, once posted."""
        return self._run.final_status

    @property
    def stats(self) -> RunStats:
        """The run's counters."""
        return self._run.stats

    @property
    def errors(self) -> list[ItemError]:
        """Per-item errors Pleo returned in update responses; those items did not change."""
        return cast("list[ItemError]", self._run.errors)

    @property
    def missing_export_data(self) -> list[uuid.UUID]:
        """Entries with a job item but no export data; the run reported them failed."""
        return self._run.missing_export_data

    @property
    def fencing_token(self) -> int:
        """The token of the run's lease on its job (0 before entering)."""
        return self._run.fencing_token

    def __enter__(self) -> Self:
        self._core.run(self._run.__aenter__)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._core.run(lambda: self._run.__aexit__(exc_type, exc, traceback))

    def pending(self) -> Iterator[WorkItem[ItemT, ExportT]]:
        """Iterate over the items still to export, each with its export data (see the async
        ``ExportRun.pending``)."""
        return stream(self._portal(), self._run.pending, 1)

    def succeeded(
        self,
        work: WorkItem[ItemT, ExportT] | uuid.UUID | str,
        *,
        external_id: str | None = None,
        external_url: str | None = None,
        exported_at: datetime | None = None,
    ) -> None:
        """Record that an item is in the accounting system (sent with the next batch).

        Raises:
            InvalidArgumentError: the entry already has an outcome in this run, or a bad value.
        """
        self._portal().run_sync(
            lambda: self._run.succeeded(
                work,
                external_id=external_id,
                external_url=external_url,
                exported_at=exported_at,
            )
        )

    def failed(
        self,
        work: WorkItem[ItemT, ExportT] | uuid.UUID | str,
        *,
        reason: str,
        reason_type: str | None = None,
    ) -> None:
        """Record that an item could not be exported (sent with the next batch).

        Raises:
            InvalidArgumentError: the entry already has an outcome, no reason, or an unknown
                ``reason_type``.
        """
        self._portal().run_sync(
            lambda: self._run.failed(work, reason=reason, reason_type=reason_type)
        )

    def flush(self) -> None:
        """Journal and send every recorded outcome now; wait for the batches on their way.

        Raises:
            BatchUpdateError: some batch failed after retries (they stay buffered).
        """
        self._portal()
        self._core.run(self._run.flush)

    @overload
    def process(
        self,
        handler: Handler[ItemT, ExportT],
        *,
        concurrency: int = ...,
        max_attempts: int = ...,
        max_outage: float = ...,
        grace: float = ...,
    ) -> str: ...
    @overload
    def process(
        self,
        handler: BatchHandler[ItemT, ExportT],
        *,
        batch_size: int,
        concurrency: int = ...,
        max_attempts: int = ...,
        max_outage: float = ...,
        grace: float = ...,
    ) -> str: ...
    def process(
        self,
        handler: Handler[ItemT, ExportT] | BatchHandler[ItemT, ExportT],
        *,
        batch_size: int | None = None,
        concurrency: int = _PROCESS["concurrency"],
        max_attempts: int = _PROCESS["max_attempts"],
        max_outage: float = _PROCESS["max_outage"],
        grace: float = _PROCESS["grace"],
    ) -> str:
        """Hand every pending item to the plain function ``handler``, ``concurrency`` calls at
        a time, each in a thread pool of the run's own (in a copy of this thread's context),
        and record its answers; ``batch_size`` makes it a batch handler. The rules (retries in
        doubt, the breaker, outages, ``grace`` on an interrupt) are the async
        ``ExportRun.process``'s::

            with pleo.export_run(job) as run:
                run.process(book, concurrency=8)

        Returns:
            how it ended: ``"done"``, ``"stopped"``, ``"systemic"`` (paused) or ``"aborted"``.
        """
        self._portal()
        pool = HandlerPool(handler, concurrency)
        options: dict[str, Any] = {
            "concurrency": concurrency,
            "max_attempts": max_attempts,
            "max_outage": max_outage,
            "grace": grace,
        }
        run: Any = self._run  # the overloads tie the handler's form to batch_size, here a value
        pool.open()
        interrupted = False
        try:
            if batch_size is None:
                ending: str = self._core.run(lambda: run.process(pool.one, **options))
            else:
                ending = self._core.run(
                    lambda: run.process(pool.batch, batch_size=batch_size, **options)
                )
        except BaseException as exc:
            interrupted = not isinstance(exc, Exception)
            raise
        finally:
            pool.close(interrupted=interrupted)
        return ending

    def ensure_sending(self) -> None:
        """Before handing an item out again yourself (a retry): the lease is provably held, the
        journal writes and Pleo takes outcomes (see the async ``ensure_sending``).

        Raises:
            LeaseLostError: the lease was superseded (also CoordinatorError, BatchUpdateError).
        """
        self._portal()
        self._core.run(self._run.ensure_sending)

    def pause(self) -> None:
        """End the run without a final event: on exit it flushes and leaves the job
        ``in_progress``, to be resumed later."""
        self._portal().run_sync(self._run.pause)

    def abort(self, *, reason: str, reason_type: str) -> None:
        """Fail the job now; exiting the block posts nothing more.

        Raises:
            InvalidArgumentError: an unknown ``reason_type``.
        """
        self._portal()
        self._core.run(lambda: self._run.abort(reason=reason, reason_type=reason_type))

    def _portal(self) -> Portal:
        return self._core.check(self._generation, "export run")
