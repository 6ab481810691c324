"""``ExportWorker``: an asyncio service loop that finds export jobs and runs them to the end.

It polls for pending jobs (oldest first, one per company at a time), wakes early on
``notify()``, leases and claims each job and hands every item, as a ``WorkItem``, to the
caller's handler through an ``ExportRun``. Workers sharing one account share a coordinator
(its fenced leases decide who runs or resumes a job). Delivering webhooks and booking items is
the caller's part.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections import deque
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from typing import (
    TYPE_CHECKING,
    Any,
    Final,
    Generic,
    TypeAlias,
    TypeVar,
    Unpack,
    cast,
    overload,
)

from ._api import version_of
from ._config import (
    DEFAULT_POLL_INTERVAL,
    DEFAULT_RESUME_IDLE,
    DEFAULT_WORKER_JOBS,
    WORKER_FINISHED_KEPT,
)
from ._dispatch import (
    DEFAULT_GRACE,
    DEFAULT_MAX_ATTEMPTS,
    DEFAULT_MAX_OUTAGE,
    SYSTEMIC_PAUSE,
    BatchHandler,
    Booked,
    Dispatch,
    DispatchOptions,
    Ending,
    Handler,
    JobAbortedError,
    Outcome,
    Rejected,
    Retry,
)
from ._errors import (
    AuthenticationError,
    ExportNotFoundError,
    InvalidArgumentError,
    InvalidStatusChangeError,
    InvalidTransitionError,
    LeaseHeldError,
    LeaseLostError,
    PermissionDeniedError,
    PleoError,
)
from ._lifecycle import status_text
from ._observe._watch import WorkerWatch
from ._port import EntryLike, ExportPort, JobLike
from ._run import ExportRun
from ._secrets import scrub
from ._validation import check_int, check_uuid
from ._worker_state import (
    NOT_DURABLE,
    ItemWatch,
    Progress,
    WorkerOptions,
    WorkerStats,
    idle_seconds,
    report,
)
from .coordination._memory import InMemoryCoordinator
from .coordination._types import Coordinator, new_holder

if TYPE_CHECKING:
    from ._api import ClientLike, V2Resources, V3Resources
    from .models import ExportItemV2, ExportItemV3, ExportJobItem, ExportJobItemV3

__all__ = [
    "Booked",
    "ExportWorker",
    "Handler",
    "JobAbortedError",
    "Outcome",
    "Progress",
    "Rejected",
    "Retry",
    "WorkerOptions",
    "WorkerStats",
]

logger: Final = logging.getLogger("pleo_export")

ExportT = TypeVar("ExportT", bound=EntryLike)
_RUNNABLE: Final = ("pending", "in_progress")
_Run: TypeAlias = ExportRun[JobLike, EntryLike, ExportT]


class ExportWorker(Generic[ExportT]):
    """Runs export jobs as they appear, in any asyncio service::

        worker = ExportWorker(pleo, book_in_ledger, on_progress=print)
        task = asyncio.create_task(worker.run())
        ...
        await worker.notify(job_id)   # from the v1.export-job.created webhook
        ...
        worker.stop(); await task     # graceful: the current item finishes, the job resumes later

    Each poll lists ``pending`` and ``in_progress`` jobs, oldest (``createdAt``) first. Each is
    leased on the coordinator first (job and company, with a fencing token); a job whose lease
    another live worker holds is left alone. A pending job is then claimed with ``started``; if
    another worker got there first the job is skipped. An ``in_progress`` job is resumed
    (without ``started``): with a ``coordinator`` as soon as its lease is free (a dead holder's
    lapses after ``lease_seconds``); without one, only once its ``lastUpdatedAt`` is
    ``resume_idle`` seconds old, since nothing else tells a live run from a dead one. At most
    one job per company runs at a time, and at most ``max_jobs`` in all.

    Args:
        pleo: the ``PleoExport`` client (its ``api_version`` is used; the handler is typed for
            either version's export item), or ``pleo.v3`` / ``pleo.v2`` for one version's
            exact types.
        handler: ``handler(work) -> Booked | Rejected | Retry``, sync or async, given a
            ``WorkItem``: ``work.export_item`` is the accounting data; with ``work.in_doubt``
            an earlier run may already have booked it, so look it up by
            ``work.accounting_entry_id`` first. An exception is retried in doubt (see
            ``ExportRun.process``). A sync handler runs on the event loop: wrap blocking calls
            in ``asyncio.to_thread``.
        batch_size: makes ``handler`` a batch handler: ``handler(batch) -> BatchAnswer`` is
            given up to this many items (a tuple) and answers one outcome per item, by
            ``accounting_entry_id`` or in order; ``concurrency`` then counts batches.
        company_ids: only these companies' jobs (needed with organisation-level credentials);
            default all the credentials can see.
        poll_interval: seconds between polls (default 60).
        max_jobs: jobs run at once, each of a different company (default 4).
        resume_idle: without a coordinator, seconds an ``in_progress`` job must have been
            idle to be resumed (default 600). Set it to 0 when this is the only worker.
        on_progress: called with a ``Progress`` after each step; it must not block.
        coordinator: the fenced leases and journal shared by every worker of the account
            (``SQLiteCoordinator`` on one machine, ``PostgresCoordinator`` on several); it
            replaces the ``resume_idle`` heuristic. Default: the client's in-memory coordinator,
            which protects this process only (see docs/coordination.md).
        holder: this worker's name on its leases; default ``new_holder()`` (host, pid, a
            random part). A name that stays the same across restarts (one per deployed
            instance) lets a restarted worker take its own jobs back at once instead of
            waiting ``lease_seconds`` for its old leases to lapse; two live workers must never
            share one.
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
        pleo: ClientLike,
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
        pleo: ClientLike,
        handler: BatchHandler[ExportJobItemV3 | ExportJobItem, ExportItemV3 | ExportItemV2],
        *,
        batch_size: int,
        **options: Unpack[WorkerOptions],
    ) -> None: ...
    def __init__(
        self,
        pleo: ClientLike | V3Resources | V2Resources,
        handler: Handler[Any, Any] | BatchHandler[Any, Any],
        *,
        batch_size: int | None = None,
        company_ids: Iterable[str | uuid.UUID] | None = None,
        poll_interval: float = DEFAULT_POLL_INTERVAL,
        max_jobs: int = DEFAULT_WORKER_JOBS,
        resume_idle: float = DEFAULT_RESUME_IDLE,
        on_progress: Callable[[Progress], None] | None = None,
        coordinator: Coordinator | None = None,
        holder: str | None = None,
        concurrency: int = 1,
        max_attempts: int = DEFAULT_MAX_ATTEMPTS,
        max_outage: float = DEFAULT_MAX_OUTAGE,
        grace: float = DEFAULT_GRACE,
    ) -> None:
        check_int(concurrency, "concurrency", minimum=1)
        if batch_size is not None:
            check_int(batch_size, "batch_size", minimum=1)
        check_int(max_attempts, "max_attempts", minimum=1)
        if poll_interval <= 0:
            raise InvalidArgumentError("poll_interval", f"must be > 0, got {poll_interval}")
        if max_jobs < 1:
            raise InvalidArgumentError("max_jobs", f"must be >= 1, got {max_jobs}")
        if resume_idle < 0:
            raise InvalidArgumentError("resume_idle", f"must be >= 0, got {resume_idle}")
        version, client_coordinator, observer = version_of(pleo)
        # The overloads tie the handler's item type to the version: the version yields it.
        self._port = cast("ExportPort[JobLike, EntryLike, ExportT]", version)
        self._handler: Handler[EntryLike, ExportT] | BatchHandler[EntryLike, ExportT] = handler
        #: Items per call of a batch handler (None: the handler takes one item).
        self.batch_size = batch_size
        #: The coordinator given (None: the client's in-memory one, with the idle heuristic).
        self.coordinator = coordinator
        if coordinator is None:  # the client's in-memory one (a bare port: its own)
            coordinator = (
                InMemoryCoordinator() if client_coordinator is None else client_coordinator
            )
        self._coordinator = coordinator
        #: This worker's name on its leases.
        self.holder = new_holder() if holder is None else holder
        self._companies = (
            None
            if company_ids is None
            else [check_uuid(company, "company_ids") for company in company_ids]
        )
        self.poll_interval = poll_interval
        self.max_jobs = max_jobs
        self.resume_idle = resume_idle
        self._limits = DispatchOptions(
            concurrency=concurrency, max_attempts=max_attempts, max_outage=max_outage, grace=grace
        )
        self._on_progress = on_progress
        self._watch = WorkerWatch(observer)
        self.stats = WorkerStats()
        self._wake = asyncio.Event()
        self._stopping = asyncio.Event()
        self._running = False
        self._hints: set[uuid.UUID] = set()
        #: Jobs paused on a systemic handler error, and when they may be tried again.
        self._held_back: dict[uuid.UUID, float] = {}
        self._busy_companies: set[uuid.UUID] = set()
        self._busy_jobs: set[uuid.UUID] = set()
        #: Jobs this worker brought to a final status lately: a listing that was in flight
        #: while one finished still shows it running, and must not start it again.
        self._finished: deque[uuid.UUID] = deque(maxlen=WORKER_FINISHED_KEPT)

    @property
    def concurrency(self) -> int:
        """Handler calls (batches, with ``batch_size``) in flight per job."""
        return self._limits.get("concurrency", 1)

    def __repr__(self) -> str:
        return f"<ExportWorker running={self._running} active={len(self._busy_jobs)} {self.stats}>"

    async def run(self, *, until_idle: bool = False) -> None:
        """Poll and run jobs until ``stop()`` or cancellation.

        Args:
            until_idle: return once a poll finds nothing to start and no job is running
                (for batch jobs, scripts and tests).

        Raises:
            PleoError: ``run()`` is already running on this worker; or, with ``until_idle``,
                listing jobs failed after the retries.
            AuthenticationError: listing jobs was refused for the credentials (401); running
                jobs are paused first. Also PermissionDeniedError (403).
        """
        if self._running:
            raise PleoError("this ExportWorker is already running")
        self._running = True
        logger.info("export worker started (poll every %gs)", self.poll_interval)
        if self.coordinator is None or isinstance(self.coordinator, InMemoryCoordinator):
            logger.warning(NOT_DURABLE)
        failure: PleoError | None = None
        try:
            async with asyncio.TaskGroup() as group:
                while not self._stopping.is_set():
                    self._wake.clear()
                    try:
                        started = await self._poll(group, until_idle=until_idle)
                    except PleoError as exc:  # stop gracefully, then raise it as it is
                        failure = exc
                        self._stopping.set()
                        break
                    if until_idle and not started and not self._busy_jobs:
                        break
                    await self._sleep()
        finally:
            self._running = False
            self._stopping.clear()  # a stop() before run() still counts
            logger.info("export worker stopped (%s)", self.stats)
        if failure is not None:
            raise failure

    def stop(self) -> None:
        """Stop gracefully: no new jobs; running ones finish their current item, flush and are
        left ``in_progress`` (resumable); then ``run()`` returns. Called before ``run()``, it
        makes the next ``run()`` return at once."""
        self._stopping.set()
        self._wake.set()

    async def notify(self, job_id: str | uuid.UUID | None = None) -> None:
        """Wake the worker now, e.g. on a ``v1.export-job.created`` webhook.

        Args:
            job_id: the new job; it is fetched directly too, in case a listing lags behind.

        Raises:
            InvalidArgumentError: ``job_id`` is not a UUID.
        """
        if job_id is not None:
            self._hints.add(check_uuid(job_id, "job_id"))
        self._wake.set()

    async def _sleep(self) -> None:
        try:
            async with asyncio.timeout(self.poll_interval):
                await self._wake.wait()
        except TimeoutError:
            pass

    async def _poll(self, group: asyncio.TaskGroup, *, until_idle: bool) -> int:
        """Start what can be started now; return how many jobs were started.

        A failed listing, whatever the exception, is logged (one bounded line) and tried again
        after the poll interval, unless waiting cannot help: bad or insufficient credentials,
        or a one-shot run (``until_idle``) that must not pass a failure off as "nothing to do".
        """
        try:
            candidates = await self._candidates()
        except (AuthenticationError, PermissionDeniedError):
            raise
        except Exception as exc:  # a hostile listing must not end the service
            if until_idle:
                raise
            logger.warning(
                "export worker: listing jobs failed, trying again later: %s: %s",
                type(exc).__name__,
                scrub(str(exc)),
            )
            return 0
        started = 0
        now = datetime.now(UTC)
        for job in candidates:
            if self._stopping.is_set() or len(self._busy_jobs) >= self.max_jobs:
                break
            if job.id in self._busy_jobs or job.company_id in self._busy_companies:
                continue
            if job.id in self._finished or self._held_back.get(job.id, 0.0) > time.monotonic():
                continue
            if (
                self.coordinator is None
                and status_text(job.status) == "in_progress"
                and idle_seconds(job, now) < self.resume_idle
            ):
                continue  # most likely another worker's live run: no lease can tell
            self._busy_jobs.add(job.id)
            self._busy_companies.add(job.company_id)
            group.create_task(self._process(job))
            started += 1
        self._watch.polled(candidates, self._busy_jobs, now)
        return started

    async def _candidates(self) -> list[JobLike]:
        """Pending and in-progress jobs, hinted ones included, oldest first."""
        port = self._port
        found: dict[uuid.UUID, JobLike] = {}
        companies: list[uuid.UUID | None] = [*self._companies] if self._companies else [None]
        for company in companies:
            async for job in port.list_jobs(company_id=company, statuses=_RUNNABLE):
                found[job.id] = job
        hints, self._hints = self._hints, set()
        for job_id in hints - set(found):
            try:
                job = await port.get(job_id)
            except ExportNotFoundError:
                continue
            if status_text(job.status) in _RUNNABLE and (
                self._companies is None or job.company_id in self._companies
            ):
                found[job.id] = job
        return sorted(found.values(), key=lambda job: (job.created_at, str(job.id)))

    async def _process(self, job: JobLike) -> None:
        run: _Run[ExportT] = ExportRun(
            self._port,
            job,
            coordinator=self._coordinator,
            holder=self.holder,
            observer=self._watch.observer,
        )
        claimed = False
        scope, error = self._watch.job_started(job), None
        try:
            async with run:
                claimed = True
                if not run.claim_confirmed and self.coordinator is None and self.resume_idle > 0:
                    # Other workers may share the account (resume_idle > 0 says so): a claim
                    # seen only by re-reading could be theirs. Leave the job to the idle resume.
                    run.pause()
                    self.stats.jobs_deferred += 1
                    logger.info("job %s: claim unconfirmed; deferring to the idle resume", job.id)
                    self._report("deferred", run)
                    return
                self._report("resumed" if run.resumed else "started", run)
                dispatch = Dispatch(
                    run,
                    self._handler,
                    batch_size=self.batch_size,
                    stopping=self._stopping,
                    watch=ItemWatch(
                        self.stats,
                        self._watch,
                        lambda entry: self._report("item", run, entry_id=entry),
                    ),
                    **self._limits,
                )
                try:
                    ending = await dispatch.run()
                finally:
                    self.stats.outage_seconds += dispatch.outage_seconds
                if ending is Ending.SYSTEMIC:  # a bug in the handler: let people look first
                    self.stats.jobs_systemic += 1
                    self._watch.item("systemic")
                    self._held_back[job.id] = time.monotonic() + SYSTEMIC_PAUSE
            if run.final_status is None:
                self.stats.jobs_paused += 1
                self._report("paused", run)
            else:
                self.stats.jobs_processed += 1
                self._finished.append(job.id)
                self._report("finished", run, status=run.final_status)
        except LeaseHeldError as exc:  # another live worker runs it (or its company's other job)
            logger.debug("job %s: %s", job.id, exc)
        except LeaseLostError as exc:
            self.stats.jobs_superseded += 1
            logger.warning("job %s: %s; another worker took it over", job.id, exc)
            self._report("superseded", run, status=str(exc))
        except InvalidStatusChangeError as exc:
            if claimed:  # a later event refused (e.g. the job expired): not a lost claim
                self._failed_job(run, exc)
                return
            self.stats.jobs_skipped += 1
            logger.info("job %s: claimed elsewhere (%s); skipping", job.id, exc.actual_status)
            self._report("skipped", run, status=exc.actual_status)
        except InvalidTransitionError as exc:  # finished since it was listed
            self.stats.jobs_skipped += 1
            self._report("skipped", run, status=exc.status)
        except Exception as exc:  # one job's failure must not end the service
            self._failed_job(run, exc)
            error = exc
        finally:
            self._watch.job_stopped(job, scope, error)
            self._busy_jobs.discard(job.id)
            self._busy_companies.discard(job.company_id)
            self._wake.set()  # the company is free: look again now

    def _failed_job(self, run: _Run[ExportT], exc: Exception) -> None:
        self.stats.jobs_errored += 1
        logger.error("job %s: export run ended on an error: %r", run.job_id, exc)
        self._report("error", run, status=f"{type(exc).__name__}: {exc}")

    def _report(
        self,
        stage: str,
        run: _Run[ExportT],
        *,
        status: str | None = None,
        entry_id: uuid.UUID | None = None,
    ) -> None:
        self._watch.reported(stage, run.job_id, status)
        if self._on_progress is not None:
            report(self._on_progress, stage, run.job_id, run.job, run.stats, status, entry_id)
