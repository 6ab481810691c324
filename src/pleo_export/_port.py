"""The typed port between orchestration (batches, export runs, the worker) and the wire.

``ExportPort`` is what an export run needs of one API version, generic in that version's job,
job item and export item types; ``JobLike`` and ``EntryLike`` are the few fields orchestration
reads off them, ``PagerLike`` what it does with a listing (a ``Pager``). Requests, generated
models and enums stay behind it, in ``_wire``.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Sequence
from datetime import datetime
from typing import Protocol, TypeVar

from ._outcome import ItemOutcome

__all__ = [
    "EntryLike",
    "ExportPort",
    "ItemErrorLike",
    "JobLike",
    "PageLike",
    "PagerLike",
    "UpdateResultLike",
    "UpdatedItemLike",
]


class JobLike(Protocol):
    """The fields of an export job (v3 or v2) that orchestration reads."""

    @property
    def id(self) -> uuid.UUID: ...
    @property
    def company_id(self) -> uuid.UUID: ...
    @property
    def status(self) -> object: ...
    @property
    def created_at(self) -> datetime: ...
    @property
    def number_of_items(self) -> int: ...
    @property
    def last_updated_at(self) -> object: ...
    @property
    def started_at(self) -> object: ...


class EntryLike(Protocol):
    """A job item or export item: anything keyed by its accounting entry."""

    @property
    def accounting_entry_id(self) -> uuid.UUID: ...


class UpdatedItemLike(Protocol):
    """A job item Pleo reports as updated."""

    @property
    def accounting_entry_id(self) -> uuid.UUID: ...
    @property
    def status(self) -> object: ...


class ItemErrorLike(Protocol):
    """A per-item error of an update batch (``ACCOUNTING_ENTRY_DOES_NOT_EXIST``…)."""

    @property
    def accounting_entry_id(self) -> uuid.UUID: ...
    @property
    def type_(self) -> object: ...
    @property
    def message(self) -> str: ...


class UpdateResultLike(Protocol):
    """The answer to one update batch: the items updated and the per-item errors."""

    @property
    def data(self) -> Sequence[UpdatedItemLike]: ...
    @property
    def errors(self) -> Sequence[ItemErrorLike]: ...


T_co = TypeVar("T_co", covariant=True)


class PageLike(Protocol[T_co]):
    """One page of a listing (a ``Page``), as orchestration reads it."""

    @property
    def items(self) -> Sequence[T_co]: ...


class PagerLike(Protocol[T_co]):
    """A listing (a ``Pager``) as orchestration uses it: its items, in an ``async with`` that
    closes it when left early, or only its first page."""

    def __aiter__(self) -> AsyncIterator[T_co]: ...
    async def first_page(self) -> PageLike[T_co]: ...
    async def __aenter__(self) -> PagerLike[T_co]: ...
    async def __aexit__(self, *exc_info: object) -> None: ...


JobT_co = TypeVar("JobT_co", bound=JobLike, covariant=True)
ItemT_co = TypeVar("ItemT_co", bound=EntryLike, covariant=True)
ExportT_co = TypeVar("ExportT_co", bound=EntryLike, covariant=True)


class JobEvents(Protocol[JobT_co]):
    """What ``_lifecycle.transition`` needs: a jobs resource, or a whole API version."""

    async def get(self, job_id: uuid.UUID | str) -> JobT_co:
        """Fetch one job."""
        ...

    async def post_event(
        self,
        job_id: uuid.UUID | str,
        event: str,
        *,
        failure_reason: str | None = None,
        failure_reason_type: str | None = None,
        retry: bool = False,
    ) -> None:
        """Post one lifecycle event as it is (``_lifecycle.transition`` checks and reconciles)."""
        ...


class ExportPort(JobEvents[JobT_co], Protocol[JobT_co, ItemT_co, ExportT_co]):
    """What an export run and the worker need of one API version."""

    @property
    def api_version(self) -> str:
        """``"v3"`` or ``"v2"``."""
        ...

    def list_jobs(
        self, *, company_id: uuid.UUID | None, statuses: Sequence[str]
    ) -> PagerLike[JobT_co]:
        """Iterate over a company's (or every visible) job in these statuses."""
        ...

    def list_items(
        self, job_id: uuid.UUID, *, status: str, limit: int | None = None
    ) -> PagerLike[ItemT_co]:
        """Iterate over a job's items in one status."""
        ...

    def list_export_items(self, job_id: uuid.UUID) -> PagerLike[ExportT_co]:
        """Iterate over a job's export data."""
        ...

    async def report(self, job_id: uuid.UUID, outcomes: Sequence[ItemOutcome]) -> UpdateResultLike:
        """Send at most 100 outcomes as one update batch."""
        ...

    def check_item_failure_type(self, value: str) -> str:
        """``value`` as a known item-level failure type of this version (or an enum member
        given on purpose), else ``InvalidArgumentError``."""
        ...
