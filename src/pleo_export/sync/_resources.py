"""The sync resources: each method is the async one's, awaited on the portal.

The async resource classes are reached only through the public ``PleoExport`` (``pleo.v3.jobs``
and so on); the protocols below say what is used of them, so a change to the async side that
would break a sync method shows up in ``mypy``.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Awaitable, Callable, Iterator, Mapping, Sequence
from enum import StrEnum
from types import TracebackType
from typing import TYPE_CHECKING, Any, Final, Generic, Protocol, TypeVar, Unpack

import pleo_export
from pleo_export import BatchResult, DownloadedFile, ItemFile, Page, PagingOptions
from pleo_export.models import ExportItemV2, ExportItemV3, ExportJobItemV3

from ._core import AsyncClosable, Core
from ._defaults import keyword_defaults
from ._portal import Portal
from ._stream import stream

if TYPE_CHECKING:
    pass

__all__ = ["ExportItems", "Files", "JobItems", "JobItemsV3", "Jobs", "Pager"]

T = TypeVar("T")
JobT = TypeVar("JobT")
ItemT = TypeVar("ItemT")
ExportT = TypeVar("ExportT")
UpdateT = TypeVar("UpdateT")
ResultT = TypeVar("ResultT")
UpdateT_contra = TypeVar("UpdateT_contra", contravariant=True)
ResultT_co = TypeVar("ResultT_co", covariant=True)
R = TypeVar("R")
IdLike = str | uuid.UUID
#: ``pleo.v3.export_run(job, ...)``'s defaults: its ``update_concurrency`` (item-update batches
#: in flight at once) is the number ``job_items.update_all`` calls ``concurrency``.
_VERSION_RUN: Final = keyword_defaults(pleo_export.V3Resources.export_run)


class _AsyncJobs(Protocol[JobT]):
    def list(self, *args: Any, **kwargs: Any) -> pleo_export.Pager[JobT]: ...
    def get(self, job_id: IdLike) -> Awaitable[JobT]: ...
    def create(self, *args: Any, **kwargs: Any) -> Awaitable[JobT]: ...
    def post_event(self, *args: Any, **kwargs: Any) -> Awaitable[None]: ...
    def start(self, job: IdLike | JobT) -> Awaitable[bool]: ...
    def complete(self, job: IdLike | JobT) -> Awaitable[None]: ...
    def complete_with_errors(self, job: IdLike | JobT) -> Awaitable[None]: ...
    def fail(
        self, job: IdLike | JobT, *, reason: str, reason_type: str | None = ...
    ) -> Awaitable[None]: ...


class _AsyncJobItems(Protocol[ItemT, UpdateT_contra, ResultT_co]):
    @property
    def item_failure_types(self) -> type[StrEnum]: ...
    def list(self, *args: Any, **kwargs: Any) -> pleo_export.Pager[ItemT]: ...
    def update(
        self, job_id: IdLike, updates: Sequence[UpdateT_contra | Mapping[str, object]]
    ) -> Awaitable[ResultT_co]: ...
    def update_all(
        self,
        job: Any,
        updates: Sequence[UpdateT_contra | Mapping[str, object]],
        *,
        concurrency: int = ...,
        raise_on_error: bool = ...,
    ) -> Awaitable[BatchResult]: ...


class _AsyncJobItemsV3(_AsyncJobItems[ItemT, UpdateT_contra, ResultT_co], Protocol):
    def get_by_accounting_entry(
        self, *, company_id: IdLike, accounting_entry_id: IdLike
    ) -> Awaitable[ExportJobItemV3]: ...


class _AsyncExportItems(Protocol[ExportT]):
    def list(self, *args: Any, **kwargs: Any) -> pleo_export.Pager[ExportT]: ...


class Pager(Generic[T]):
    """Items of a list operation across pages: ``for item in pager``.

    Pages are fetched on the client's loop as in the async ``Pager`` (``prefetch`` pages
    ahead); a plain ``for`` hands out each page's items as the page arrives. Leaving the loop
    early, or dropping the iterator, cancels the prefetch. ``with pager:`` or ``close()``
    stops every iteration of it at once.
    """

    def __init__(
        self,
        core: Core[AsyncClosable],
        pager: pleo_export.Pager[T],
        *,
        max_items: int | None,
        chunk: int,
    ) -> None:
        self._core = core
        self._generation = core.generation
        self._pager = pager
        self._max_items = max_items
        self._chunk = max(1, chunk)

    def __iter__(self) -> Iterator[T]:
        if self._max_items is None:
            return self._pages_as_items()
        # With max_items the async item iterator stops fetching at the budget: take its
        # items a page's worth at a time.
        return stream(self._portal(), lambda: aiter(self._pager), self._chunk)

    def pages(self) -> Iterator[Page[T]]:
        """Iterate page by page, following the cursors (``max_items`` is not applied)."""
        return stream(self._portal(), self._pager.pages, 1)

    def first_page(self) -> Page[T]:
        """Fetch only the first page."""
        self._portal()
        return self._core.run(self._pager.first_page)

    def close(self) -> None:
        """Stop every iteration of this pager and cancel its prefetch now."""
        self._portal().cleanup(self._pager.aclose)

    def __enter__(self) -> Pager[T]:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def _portal(self) -> Portal:
        return self._core.check(self._generation, "pager")

    def _pages_as_items(self) -> Iterator[T]:
        for page in self.pages():
            yield from page.items


class _Resource(Generic[R]):
    """A sync resource: its client's core, and how to find the async resource (a call on the
    loop, through the client's binding: after a fork it finds the child's)."""

    def __init__(self, core: Core[AsyncClosable], find: Callable[[], R]) -> None:
        self._core = core
        self._find = find

    def _run(self, op: Callable[[R], Awaitable[T]]) -> T:
        find = self._find
        return self._core.run(lambda: op(find()))

    def _pager(self, make: Callable[[R], pleo_export.Pager[T]], paging: PagingOptions) -> Pager[T]:
        find = self._find
        pager = self._core.portal().run_sync(lambda: make(find()))  # checks the keywords
        max_items = paging.get("max_items")
        chunk = _chunk(paging.get("limit"), max_items)
        return Pager(self._core, pager, max_items=max_items, chunk=chunk)


def _chunk(limit: int | None, max_items: int | None) -> int:
    """Items per round trip when ``max_items`` applies: one page's worth."""
    size = 100 if limit is None else limit
    return size if not max_items else min(size, max_items)


class Jobs(_Resource[_AsyncJobs[JobT]], Generic[JobT]):
    """Export jobs of one API version; ``pleo.jobs`` (v3) or ``pleo.v2.jobs``. Each method is
    the async ``pleo_export.PleoExport``'s, without ``await``; see there for the details."""

    def list(
        self,
        *,
        company_id: IdLike | None = None,
        statuses: Sequence[str] | None = None,
        **paging: Unpack[PagingOptions],
    ) -> Pager[JobT]:
        """Iterate over export jobs, following cursors: ``for job in pleo.jobs.list()``.

        Raises:
            InvalidArgumentError: a bad argument, before any request.
        """
        return self._pager(
            lambda jobs: jobs.list(
                company_id=company_id,
                statuses=statuses,
                **paging,
            ),
            paging,
        )

    def get(self, job_id: IdLike) -> JobT:
        """Fetch one export job.

        Raises:
            ExportNotFoundError: no job with that id.
        """
        return self._run(lambda jobs: jobs.get(job_id))

    def create(
        self,
        *,
        company_id: IdLike,
        accounting_entry_ids: Sequence[IdLike],
        employee_id: IdLike | None = None,
        is_interactive: bool | None = None,
        vendor_based_bookkeeping: bool | None = None,
    ) -> JobT:
        """Create an export job for some accounting entries (never retried).

        Raises:
            ExportAlreadyInProgressError: the company already has a running job.
        """
        return self._run(
            lambda jobs: jobs.create(
                company_id=company_id,
                accounting_entry_ids=accounting_entry_ids,
                employee_id=employee_id,
                is_interactive=is_interactive,
                vendor_based_bookkeeping=vendor_based_bookkeeping,
            )
        )

    def post_event(
        self,
        job_id: IdLike,
        event: str,
        *,
        failure_reason: str | None = None,
        failure_reason_type: str | None = None,
        retry: bool = False,
    ) -> None:
        """Post a lifecycle event as it is, with no state check (see ``start``/``complete``).

        Raises:
            InvalidStatusChangeError: the job's status does not allow the event.
        """
        self._run(
            lambda jobs: jobs.post_event(
                job_id,
                event,
                failure_reason=failure_reason,
                failure_reason_type=failure_reason_type,
                retry=retry,
            )
        )

    def start(self, job: IdLike | JobT) -> bool:
        """Claim a pending job (pending → in_progress), safely retried; see the async
        ``start`` for what False means."""
        return self._run(lambda jobs: jobs.start(job))

    def complete(self, job: IdLike | JobT) -> None:
        """Post ``completed``: every item was exported."""
        self._run(lambda jobs: jobs.complete(job))

    def complete_with_errors(self, job: IdLike | JobT) -> None:
        """Post ``completed_with_errors``: some items failed."""
        self._run(lambda jobs: jobs.complete_with_errors(job))

    def fail(self, job: IdLike | JobT, *, reason: str, reason_type: str | None = None) -> None:
        """Post ``failed`` with a reason the user can act on."""
        self._run(lambda jobs: jobs.fail(job, reason=reason, reason_type=reason_type))


class JobItems(
    _Resource[_AsyncJobItems[ItemT, UpdateT, ResultT]], Generic[ItemT, UpdateT, ResultT]
):
    """The items of export jobs; ``pleo.job_items`` (v3) or ``pleo.v2.job_items``."""

    @property
    def item_failure_types(self) -> type[StrEnum]:
        """This version's item-level failure type enum."""
        return self._core.portal().run_sync(lambda: self._find().item_failure_types)

    def list(
        self,
        job_id: IdLike,
        *,
        status: str | None = None,
        **paging: Unpack[PagingOptions],
    ) -> Pager[ItemT]:
        """Iterate over a job's items, optionally only those in one ``status``.

        Raises:
            InvalidArgumentError: a bad argument, before any request.
        """
        return self._pager(
            lambda items: items.list(
                job_id,
                status=status,
                **paging,
            ),
            paging,
        )

    def update(self, job_id: IdLike, updates: Sequence[UpdateT | Mapping[str, object]]) -> ResultT:
        """Report the outcome of at most 100 items in one request (PUT, retried safely).

        Raises:
            InvalidArgumentError: more than 100 updates, none, or a malformed one.
        """
        return self._run(lambda items: items.update(job_id, updates))

    def update_all(
        self,
        job: IdLike | object,
        updates: Sequence[UpdateT | Mapping[str, object]],
        *,
        concurrency: int = _VERSION_RUN["update_concurrency"],
        raise_on_error: bool = False,
    ) -> BatchResult:
        """Report the outcome of any number of items: batches of 100, some in flight at once.

        Raises:
            BatchUpdateError: ``raise_on_error`` and something was not applied.
        """
        return self._run(
            lambda items: items.update_all(
                job, updates, concurrency=concurrency, raise_on_error=raise_on_error
            )
        )


class JobItemsV3(JobItems[ItemT, UpdateT, ResultT]):
    """Job items through the v3 endpoints, with the lookup by accounting entry."""

    def __init__(
        self,
        core: Core[AsyncClosable],
        find: Callable[[], _AsyncJobItemsV3[ItemT, UpdateT, ResultT]],
    ) -> None:
        super().__init__(core, find)
        self._find_v3 = find

    def get_by_accounting_entry(
        self, *, company_id: IdLike, accounting_entry_id: IdLike
    ) -> ExportJobItemV3:
        """The job item for one accounting entry (an endpoint Pleo marks internal).

        Raises:
            ExportEntryNotFoundError: no job item for that entry.
        """
        find = self._find_v3
        return self._core.run(
            lambda: find().get_by_accounting_entry(
                company_id=company_id, accounting_entry_id=accounting_entry_id
            )
        )


class ExportItems(_Resource[_AsyncExportItems[ExportT]], Generic[ExportT]):
    """Export items of one API version; ``pleo.export_items`` (v3) or ``pleo.v2.export_items``."""

    def list(
        self,
        job_id: IdLike,
        **paging: Unpack[PagingOptions],
    ) -> Pager[ExportT]:
        """Iterate over the export items of a pending or in-progress job.

        Raises:
            JobFinishedError: the job is finished (on the first page).
        """
        return self._pager(
            lambda items: items.list(
                job_id,
                **paging,
            ),
            paging,
        )


class Files(_Resource[pleo_export.Files]):
    """Downloads of export items' files (receipts): ``pleo.files``; see ``pleo_export.Files``
    for what every download checks."""

    def of(
        self, export_item: ExportItemV3 | ExportItemV2, *, job_id: str | uuid.UUID | None = None
    ) -> list[ItemFile]:
        """The files of an export item, in Pleo's (upload) order."""
        find = self._find
        return self._core.portal().run_sync(lambda: find().of(export_item, job_id=job_id))

    def read(self, file: ItemFile) -> DownloadedFile:
        """Download a file into memory (at most ``max_size`` bytes).

        Raises:
            FileDownloadError: the download failed (its ``failure_type`` says how to report it).
        """
        return self._run(lambda files: files.read(file))

    def save(self, file: ItemFile, path: str | os.PathLike[str]) -> DownloadedFile:
        """Stream a file to ``path`` (never left holding a partial file).

        Raises:
            FileDownloadError: the download failed; ``path`` is left untouched.
        """
        return self._run(lambda files: files.save(file, path))

    def store(self, file: ItemFile, directory: str | os.PathLike[str]) -> DownloadedFile:
        """Stream a file into a content-addressed ``directory``: ``<sha256><extension>``.

        Raises:
            FileDownloadError: the download failed.
        """
        return self._run(lambda files: files.store(file, directory))
