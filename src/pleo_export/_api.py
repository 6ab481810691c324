"""``ApiVersion``: one API version of the client, ``pleo.v3`` or ``pleo.v2``.

It holds that version's three resources (``jobs``, ``job_items``, ``export_items``), built on
the client's seam from the version's ``_wire`` adapter, and is itself the ``ExportPort`` that
export runs and the worker use. ``V3Resources`` and ``V2Resources`` are its two forms, typed
with each version's own models.

Importing this module is cheap: the resources (and with them the generated endpoints) load when
a version object is first made.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Generic, Protocol, TypeVar, cast

from ._config import DEFAULT_BATCH_CONCURRENCY, DEFAULT_FLUSH_INTERVAL
from ._port import EntryLike, ExportPort, JobLike, UpdateResultLike
from ._validation import check_batch, check_coordinator, check_enum, check_wait, renamed

if TYPE_CHECKING:
    from ._observe._hooks import Observer
    from ._outcome import ItemOutcome
    from ._pagination import Pager
    from ._resources import (
        ExportItems,
        ExportItemsV2,
        ExportItemsV3,
        ExportJobs,
        ExportJobsV2,
        ExportJobsV3,
        JobItemsV2,
        JobItemsV3,
    )
    from ._run import ExportRun
    from ._wire import Adapter, Seam
    from .coordination._types import Coordinator
    from .models import (
        ExportItemV2,
        ExportItemV3,
        ExportJob,
        ExportJobItem,
        ExportJobItemV3,
        ExportJobV3,
    )

__all__ = ["ApiVersion", "ClientLike", "V2Resources", "V3Resources", "version_of"]

JobT = TypeVar("JobT", bound=JobLike)
ItemT = TypeVar("ItemT", bound=EntryLike)
ExportT = TypeVar("ExportT", bound=EntryLike)


class _JobItems(Protocol[ItemT]):
    """What a version needs of its ``JobItemsV3`` or ``JobItemsV2``."""

    def list(
        self, job_id: uuid.UUID, *, status: str | None = ..., limit: int | None = ...
    ) -> Pager[ItemT]: ...
    async def update(self, job_id: uuid.UUID, updates: Sequence[Any]) -> UpdateResultLike: ...


class ApiVersion(Generic[JobT, ItemT, ExportT]):
    """One API version: its jobs, job items and export items, and ``export_run``.

    Attributes:
        api_version: ``"v3"`` or ``"v2"``.
        jobs: export jobs: list, get, create, lifecycle events.
        job_items: job items: list, update in batches.
        export_items: export items (the accounting data).
    """

    api_version: str
    jobs: ExportJobs[JobT]
    job_items: _JobItems[ItemT]
    export_items: ExportItems[ExportT]

    def __init__(self, wire: Adapter[Any], seam: Seam, coordinator: Coordinator) -> None:
        self.api_version = wire.version
        self._wire = wire
        self._seam = seam
        # ``post_event`` is the jobs resource's own (one signature, one body).
        self.post_event = self.jobs.post_event
        # The client's in-memory coordinator (for runs and workers given none) and its
        # hooks, tracing and metrics: private, shared with every ``with_options`` view.
        self._coordinator = coordinator
        self._observer: Observer = seam.observer

    def export_run(
        self,
        job: str | uuid.UUID | JobT,
        *,
        update_concurrency: int = DEFAULT_BATCH_CONCURRENCY,
        flush_interval: float = DEFAULT_FLUSH_INTERVAL,
        coordinator: Coordinator | None = None,
        concurrency: int | None = None,
    ) -> ExportRun[JobT, ItemT, ExportT]:
        """An export run of ``job`` on this version, typed exactly (see
        ``PleoExport.export_run``); ``update_concurrency`` is the number of update batches in
        flight, ``concurrency`` its deprecated name."""
        # deferred: the run machinery loads with the first run
        from ._run import ExportRun

        if concurrency is not None:
            update_concurrency = renamed(
                "concurrency",
                "update_concurrency",
                concurrency,
                update_concurrency,
                DEFAULT_BATCH_CONCURRENCY,
            )
        return ExportRun(
            self,
            job,
            update_concurrency=update_concurrency,
            flush_interval=check_wait(flush_interval, "flush_interval"),
            coordinator=self._coordinator
            if check_coordinator(coordinator) is None
            else coordinator,
            observer=self._observer,
        )

    # What export runs and the worker use (``ExportPort``), each a step over one resource.

    async def get(self, job_id: uuid.UUID | str) -> JobT:
        """Fetch one job."""
        return await self.jobs.get(job_id)

    def list_jobs(self, *, company_id: uuid.UUID | None, statuses: Sequence[str]) -> Pager[JobT]:
        """Iterate over jobs in these statuses."""
        return self.jobs.list(company_id=company_id, statuses=statuses)

    def list_items(
        self, job_id: uuid.UUID, *, status: str, limit: int | None = None
    ) -> Pager[ItemT]:
        """Iterate over a job's items in one status."""
        return self.job_items.list(job_id, status=status, limit=limit)

    def list_export_items(self, job_id: uuid.UUID) -> Pager[ExportT]:
        """Iterate over a job's export data."""
        return self.export_items.list(job_id)

    async def report(self, job_id: uuid.UUID, outcomes: Sequence[ItemOutcome]) -> UpdateResultLike:
        """Send at most 100 item outcomes as one update batch (what ``ExportRun`` records):
        each built once into this version's update model and sent straight down the wire (the
        models are ours, so ``job_items.update``'s checks of a caller's input are not needed).

        Raises:
            InvalidArgumentError: more than 100 outcomes, or none.
            JobFinishedError: the job is finished; its items can no longer change.
        """
        # deferred: the wire's request bodies load with the generated models, on first use
        from ._wire import send_updates

        check_batch(len(outcomes))
        wire = self._wire
        body = [wire.update_from(outcome) for outcome in outcomes]
        answer: UpdateResultLike = await send_updates(
            self._seam, wire.update_job_items, job_id, body
        )
        return answer

    def check_item_failure_type(self, value: str) -> str:
        """``value`` as a known item-level failure type of this version."""
        return check_enum(value, self._wire.item_failure_types, "reason_type").value

    def __repr__(self) -> str:
        return f"<pleo_export {self.api_version} endpoints>"


class V3Resources(ApiVersion["ExportJobV3", "ExportJobItemV3", "ExportItemV3"]):
    """The v3 endpoints, typed exactly: ``pleo.v3.jobs`` and so on (``pleo.jobs`` is the same
    object unless the client was made with ``api_version="v2"``)."""

    jobs: ExportJobsV3
    job_items: JobItemsV3
    export_items: ExportItemsV3

    def __init__(self, seam: Seam, *, prefetch: int, coordinator: Coordinator) -> None:
        # deferred: the resources and the generated endpoints load with the first version object
        from ._resources import ExportItemsV3, ExportJobsV3, JobItemsV3
        from ._wire import v3

        self.jobs = ExportJobsV3(seam, prefetch=prefetch)
        self.job_items = JobItemsV3(seam, prefetch=prefetch)
        self.export_items = ExportItemsV3(seam, prefetch=prefetch)
        super().__init__(v3.ADAPTER, seam, coordinator)


class V2Resources(ApiVersion["ExportJob", "ExportJobItem", "ExportItemV2"]):
    """The v2 endpoints, for companies that still need them: ``pleo.v2.jobs`` and so on."""

    jobs: ExportJobsV2
    job_items: JobItemsV2
    export_items: ExportItemsV2

    def __init__(self, seam: Seam, *, prefetch: int, coordinator: Coordinator) -> None:
        # deferred: the resources and the generated endpoints load with the first version object
        from ._resources import ExportItemsV2, ExportJobsV2, JobItemsV2
        from ._wire import v2

        self.jobs = ExportJobsV2(seam, prefetch=prefetch)
        self.job_items = JobItemsV2(seam, prefetch=prefetch)
        self.export_items = ExportItemsV2(seam, prefetch=prefetch)
        super().__init__(v2.ADAPTER, seam, coordinator)


class ClientLike(Protocol):
    """A client (``PleoExport``) as the worker sees it: its two versions, and ``api_version``
    naming the one it runs on. A protocol, so that the worker need not import the client."""

    @property
    def api_version(self) -> str:
        """``"v3"`` or ``"v2"``."""
        ...

    @property
    def v3(self) -> V3Resources:
        """The v3 version object."""
        ...

    @property
    def v2(self) -> V2Resources:
        """The v2 version object."""
        ...


def version_of(
    source: object,
) -> tuple[ExportPort[Any, Any, Any], Coordinator | None, Observer | None]:
    """What a worker runs on, given ``pleo``, ``pleo.v3``/``pleo.v2`` or a bare ``ExportPort``
    (a test double): the version, the client's in-memory coordinator and its observer (None for a
    bare port, which has neither)."""
    # A client is recognised by its default version, so this module need not import it.
    version = getattr(source, "_default", source)
    if isinstance(version, ApiVersion):
        return version, version._coordinator, version._observer
    return cast("ExportPort[Any, Any, Any]", version), None, None


if TYPE_CHECKING:

    def _is_a_port(
        v3: V3Resources, v2: V2Resources
    ) -> tuple[
        ExportPort[ExportJobV3, ExportJobItemV3, ExportItemV3],
        ExportPort[ExportJob, ExportJobItem, ExportItemV2],
    ]:
        """Both forms are export ports, exactly typed: mypy fails here if one stops being."""
        return v3, v2
