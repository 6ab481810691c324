"""The sync ``ExportWorker``: ``ExportWorker(pleo, book).run()`` with a plain function.

It is the async worker on the client's loop; only the handler differs: each call of it runs in
a thread pool of the worker's own (one thread per call the worker may have in flight), so a
slow ERP call blocks neither the loop nor the other jobs, and the loop keeps renewing leases
and sending batches meanwhile. With ``batch_size`` the handler is a batch handler, a plain
function given up to that many items at once, in the same pool.

Context variables: each handler call runs in a copy of the context of the engine's task for
that call (``_pool``), which descends from the caller of ``run()``: a variable set before
``worker.run()`` (a request id, a tenant, an OpenTelemetry span) is seen by the handler and its
log records. What the handler sets stays in its call.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable
from typing import Any, Final, Generic, TypeVar, Unpack, overload

import pleo_export
from pleo_export import Progress, WorkerOptions, WorkerStats
from pleo_export.models import ExportItemV2, ExportItemV3, ExportJobItem, ExportJobItemV3

from ._client import PleoExport, V2Resources, V3Resources, source_of
from ._defaults import keyword_defaults
from ._pool import BatchHandler, Handler, HandlerPool

__all__ = ["ExportWorker"]

#: ``pleo_export.ExportWorker(pleo, handler, ...)``'s defaults.
_WORKER: Final = keyword_defaults(pleo_export.ExportWorker.__init__)

ExportT = TypeVar("ExportT", bound=ExportItemV3 | ExportItemV2)


class ExportWorker(Generic[ExportT]):
    """Runs export jobs as they appear, from sync code::

        worker = ExportWorker(pleo, book_in_ledger)
        worker.run(until_idle=True)          # a cron job, a management command
        # or, as a service: worker.run() in a thread, worker.stop() from a signal handler

    Arguments as in ``pleo_export.ExportWorker``; ``handler`` is a plain function, called in
    the worker's thread pool (so it may block on the ERP and may call the sync client), in a
    copy of the context ``run()`` was called in. With ``batch_size=N`` it is a batch handler::

        def book_many(batch) -> dict[uuid.UUID, Booked | Rejected]:
            return {work.accounting_entry_id: book(work) for work in batch}

        ExportWorker(pleo, book_many, batch_size=50).run(until_idle=True)

    ``on_progress`` runs on the client's loop thread and must not block. A ``coordinator`` is
    async and works on the loop of one client: give each sync client one of its own (on the
    same file or database); one already given to another sync client is refused.
    """

    @overload
    def __init__(
        self: ExportWorker[ExportItemV3],
        pleo: V3Resources,
        handler: Handler[ExportJobItemV3, ExportItemV3],
        **options: Unpack[WorkerOptions],
    ) -> None: ...
    @overload
    def __init__(
        self: ExportWorker[ExportItemV2],
        pleo: V2Resources,
        handler: Handler[ExportJobItem, ExportItemV2],
        **options: Unpack[WorkerOptions],
    ) -> None: ...
    @overload
    def __init__(
        self: ExportWorker[ExportItemV3 | ExportItemV2],
        pleo: PleoExport,
        handler: Handler[ExportJobItemV3 | ExportJobItem, ExportItemV3 | ExportItemV2],
        **options: Unpack[WorkerOptions],
    ) -> None: ...
    @overload
    def __init__(
        self: ExportWorker[ExportItemV3],
        pleo: V3Resources,
        handler: BatchHandler[ExportJobItemV3, ExportItemV3],
        *,
        batch_size: int,
        **options: Unpack[WorkerOptions],
    ) -> None: ...
    @overload
    def __init__(
        self: ExportWorker[ExportItemV2],
        pleo: V2Resources,
        handler: BatchHandler[ExportJobItem, ExportItemV2],
        *,
        batch_size: int,
        **options: Unpack[WorkerOptions],
    ) -> None: ...
    @overload
    def __init__(
        self: ExportWorker[ExportItemV3 | ExportItemV2],
        pleo: PleoExport,
        handler: BatchHandler[ExportJobItemV3 | ExportJobItem, ExportItemV3 | ExportItemV2],
        *,
        batch_size: int,
        **options: Unpack[WorkerOptions],
    ) -> None: ...
    def __init__(
        self,
        pleo: PleoExport | V3Resources | V2Resources,
        handler: Handler[Any, Any] | BatchHandler[Any, Any],
        *,
        batch_size: int | None = None,
        company_ids: Iterable[str | uuid.UUID] | None = None,
        poll_interval: float = _WORKER["poll_interval"],
        max_jobs: int = _WORKER["max_jobs"],
        resume_idle: float = _WORKER["resume_idle"],
        on_progress: Callable[[Progress], None] | None = None,
        coordinator: pleo_export.coordination.Coordinator | None = None,
        holder: str | None = None,
        concurrency: int = _WORKER["concurrency"],
        max_attempts: int = _WORKER["max_attempts"],
        max_outage: float = _WORKER["max_outage"],
        grace: float = _WORKER["grace"],
    ) -> None:
        self._core, self._source = source_of(pleo)
        self._core.claim(coordinator)
        self._options: dict[str, Any] = {
            "batch_size": batch_size,
            "company_ids": None if company_ids is None else list(company_ids),
            "poll_interval": poll_interval,
            "max_jobs": max_jobs,
            "resume_idle": resume_idle,
            "on_progress": on_progress,
            "coordinator": coordinator,
            "holder": holder,
            "concurrency": concurrency,
            "max_attempts": max_attempts,
            "max_outage": max_outage,
            "grace": grace,
        }
        # One thread for every handler call the async worker may have in flight at once.
        jobs = max_jobs if isinstance(max_jobs, int) and max_jobs > 0 else 1
        calls = concurrency if isinstance(concurrency, int) and concurrency > 0 else 1
        self._pool = HandlerPool(handler, jobs * calls)
        self._generation = -1
        self._worker = self._make()  # bad arguments raise here, as in async

    def _make(self) -> pleo_export.ExportWorker[Any]:
        """The async worker, on this process's loop (made again after a fork)."""
        options, find = self._options, self._source

        def make() -> pleo_export.ExportWorker[Any]:
            source: Any = find()
            pool = self._pool
            handle = pool.one if options["batch_size"] is None else pool.batch
            return pleo_export.ExportWorker(source, handle, **options)

        worker = self._core.portal().run_sync(make)
        if options["holder"] is None:  # the holder names this worker: keep it on a remake
            options["holder"] = worker.holder
        self._generation = self._core.generation
        return worker

    def __repr__(self) -> str:
        return repr(self._worker).replace("<ExportWorker", "<sync ExportWorker", 1)

    @property
    def stats(self) -> WorkerStats:
        """Running totals of this worker."""
        return self._worker.stats

    @property
    def holder(self) -> str:
        """This worker's name on its leases."""
        return self._worker.holder

    @property
    def batch_size(self) -> int | None:
        """Items per call of a batch handler (None: the handler takes one item)."""
        return self._worker.batch_size

    def run(self, *, until_idle: bool = False) -> None:
        """Poll and run jobs until ``stop()``, an interrupt or (``until_idle``) nothing to do.

        A ``KeyboardInterrupt`` stops it like cancellation stops the async worker: running
        jobs flush and stay ``in_progress`` for the next run to resume.

        Raises:
            PleoError: as ``pleo_export.ExportWorker.run``.
        """
        self._core.portal()
        if self._generation != self._core.generation:
            self._worker = self._make()  # a forked child: this process's loop and client
        self._pool.open()
        interrupted = False
        try:
            self._core.run(lambda: self._worker.run(until_idle=until_idle))
        except BaseException as exc:
            interrupted = not isinstance(exc, Exception)
            raise
        finally:
            self._pool.close(interrupted=interrupted)

    def stop(self) -> None:
        """Stop gracefully (see ``pleo_export.ExportWorker.stop``); safe from any thread and
        from a signal handler: it only schedules the stop on the loop."""
        portal = self._core.portal()
        portal.soon(self._worker.stop)

    def notify(self, job_id: str | uuid.UUID | None = None) -> None:
        """Wake the worker now, e.g. on a ``v1.export-job.created`` webhook.

        Raises:
            InvalidArgumentError: ``job_id`` is not a UUID.
        """
        self._core.run(lambda: self._worker.notify(job_id))
