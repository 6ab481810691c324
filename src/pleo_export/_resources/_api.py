"""``VersionApi``: the three resources of one API version behind the ``ExportPort`` that
export runs and the worker use."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Sequence
from enum import StrEnum
from typing import Generic, Protocol, TypeVar

import httpx

from .._outcome import ItemOutcome
from .._pagination import Pager
from .._port import EntryLike, JobLike, UpdateResultLike
from .._validation import check_enum
from .export_items import ExportItems
from .export_jobs import ExportJobs

__all__ = ["VersionApi"]

JobT = TypeVar("JobT", bound=JobLike)
ItemT = TypeVar("ItemT", bound=EntryLike)
ExportT = TypeVar("ExportT", bound=EntryLike)


class _JobItems(Protocol[ItemT]):
    """What the port needs of ``JobItemsV3`` or ``JobItemsV2``."""

    @property
    def item_failure_types(self) -> type[StrEnum]: ...

    def list(
        self, job_id: uuid.UUID, *, status: str | None = ..., limit: int | None = ...
    ) -> Pager[ItemT]: ...

    def report(
        self, job_id: uuid.UUID, outcomes: Sequence[ItemOutcome]
    ) -> Awaitable[UpdateResultLike]: ...


class VersionApi(Generic[JobT, ItemT, ExportT]):
    """One API version's jobs, job items and export items as an ``ExportPort``."""

    def __init__(
        self,
        jobs: ExportJobs[JobT],
        job_items: _JobItems[ItemT],
        export_items: ExportItems[ExportT],
        *,
        api_version: str,
    ) -> None:
        #: ``"v3"`` or ``"v2"``.
        self.api_version = api_version
        self._jobs = jobs
        self._job_items = job_items
        self._export_items = export_items
        self._failure_types = job_items.item_failure_types

    async def get(self, job_id: uuid.UUID | str) -> JobT:
        """Fetch one job."""
        return await self._jobs.get(job_id)

    async def post_event(
        self,
        job_id: uuid.UUID | str,
        event: str,
        *,
        failure_reason: str | None = None,
        failure_reason_type: str | None = None,
        retry: bool = False,
        on_attempt: Callable[[httpx.Response | Exception], None] | None = None,
    ) -> None:
        """Post one lifecycle event as it is."""
        await self._jobs.post_event(
            job_id,
            event,
            failure_reason=failure_reason,
            failure_reason_type=failure_reason_type,
            retry=retry,
            on_attempt=on_attempt,
        )

    def list_jobs(self, *, company_id: uuid.UUID | None, statuses: Sequence[str]) -> Pager[JobT]:
        """Iterate over jobs in these statuses."""
        return self._jobs.list(company_id=company_id, statuses=statuses)

    def list_items(
        self, job_id: uuid.UUID, *, status: str, limit: int | None = None
    ) -> Pager[ItemT]:
        """Iterate over a job's items in one status."""
        return self._job_items.list(job_id, status=status, limit=limit)

    def list_export_items(self, job_id: uuid.UUID) -> Pager[ExportT]:
        """Iterate over a job's export data."""
        return self._export_items.list(job_id)

    async def report(self, job_id: uuid.UUID, outcomes: Sequence[ItemOutcome]) -> UpdateResultLike:
        """Send at most 100 outcomes as one update batch."""
        return await self._job_items.report(job_id, outcomes)

    def check_item_failure_type(self, value: str) -> str:
        """``value`` as a known item-level failure type of this version."""
        return check_enum(value, self._failure_types, "reason_type").value
