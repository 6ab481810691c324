"""A worker's state apart from its loop: its options, running totals and progress events, and
the watch that feeds the totals (and its metrics) from a dispatch's item events.

``WorkerOptions``, ``WorkerStats`` and ``Progress`` are public; ``ItemWatch`` is the
``DispatchWatch`` the worker gives each job's dispatch. Running jobs is ``_worker``'s part.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TypedDict

from ._observe._watch import WorkerWatch
from ._port import EntryLike
from ._reader import WorkItem
from .coordination._types import Coordinator

__all__ = ["ItemWatch", "Progress", "WorkerOptions", "WorkerStats"]


@dataclass(frozen=True, slots=True)
class Progress:
    """What a worker just did, for the ``on_progress`` callback.

    Attributes:
        stage: ``"started"`` or ``"resumed"`` (a job is claimed), ``"item"`` (one outcome
            recorded), ``"finished"`` (final event posted), ``"paused"`` (left in_progress by
            ``stop()``), ``"skipped"`` (another worker claimed it first), ``"deferred"`` (an
            unconfirmed claim left for the idle resume), ``"superseded"`` (the lease was
            lost to a newer holder; the job is left to it) or ``"error"``.
        job_id: the job.
        company_id: its company.
        total: items the run found still to do (None before it has listed them).
        booked: items booked so far in this run.
        failed: items failed so far in this run.
        status: the job's final status (``"finished"``), or the error text (``"error"``).
        entry_id: the accounting entry of an ``"item"`` event.
    """

    stage: str
    job_id: uuid.UUID
    company_id: uuid.UUID | None
    total: int | None = None
    booked: int = 0
    failed: int = 0
    status: str | None = None
    entry_id: uuid.UUID | None = None


@dataclass(slots=True)
class WorkerStats:
    """Running totals of one worker.

    Attributes:
        jobs_processed: jobs this worker brought to a final status.
        jobs_paused: jobs left ``in_progress`` by ``stop()`` or cancellation, to be resumed.
        jobs_skipped: jobs another worker claimed first.
        jobs_deferred: jobs whose ``started`` got no clear answer, left ``in_progress`` for
            the idle resume (``resume_idle``) rather than risk exporting one that another
            worker claimed in the same moment.
        jobs_errored: jobs that ended on an error (the run failed them where it could).
        jobs_superseded: jobs left because another worker took over their lease.
        items_in_doubt: items handed to the handler with ``in_doubt`` set.
        items_booked: items reported successful.
        items_failed: items reported failed.
        items_retried: items offered again after a ``Retry`` or a handler exception.
        outages: times the breaker opened (the handler failed transiently on call after
            call); the metric ``pleo_export.worker.items`` counts ``breaker_open`` and
            ``breaker_closed`` too.
        outage_seconds: seconds the breaker was open, all jobs together.
        jobs_systemic: jobs paused because the handler failed the same way on every item
            (a bug in it, not an outage): nothing failed at Pleo; see the ERROR log.
    """

    jobs_processed: int = 0
    jobs_paused: int = 0
    jobs_skipped: int = 0
    jobs_deferred: int = 0
    jobs_errored: int = 0
    jobs_superseded: int = 0
    items_in_doubt: int = 0
    items_booked: int = 0
    items_failed: int = 0
    items_retried: int = 0
    jobs_systemic: int = 0
    outages: int = 0
    outage_seconds: float = 0.0


class WorkerOptions(TypedDict, total=False):
    """The keyword arguments of ``ExportWorker`` (see there)."""

    company_ids: Iterable[str | uuid.UUID] | None
    poll_interval: float
    max_jobs: int
    resume_idle: float
    on_progress: Callable[[Progress], None] | None
    coordinator: Coordinator | None
    holder: str | None
    concurrency: int
    max_attempts: int
    max_outage: float
    grace: float


class ItemWatch:
    """A dispatch's item events, into the worker's stats, metrics and progress."""

    def __init__(
        self, stats: WorkerStats, watch: WorkerWatch, report: Callable[[uuid.UUID], None]
    ) -> None:
        self._stats = stats
        self._watch = watch
        self._report = report

    def offered(self, work: WorkItem[EntryLike, EntryLike]) -> None:
        self._stats.items_in_doubt += 1
        self._watch.item("in_doubt")

    def recorded(self, work: WorkItem[EntryLike, EntryLike], booked: bool) -> None:
        if booked:
            self._stats.items_booked += 1
        else:
            self._stats.items_failed += 1
        self._watch.item("booked" if booked else "rejected")
        self._report(work.accounting_entry_id)

    def retried(self, work: WorkItem[EntryLike, EntryLike]) -> None:
        self._stats.items_retried += 1
        self._watch.item("retried")

    def breaker(self, is_open: bool) -> None:
        self._stats.outages += is_open
        self._watch.item("breaker_open" if is_open else "breaker_closed")
