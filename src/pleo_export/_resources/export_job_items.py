"""Job items (the control layer): list with a status filter, update one batch of ≤100, and
look one up by accounting entry (v3). Batching any number of updates lives in ``_batch``.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from enum import StrEnum
from typing import Any, ClassVar, Generic, TypeVar, Unpack

from .._batch import BatchResult, send_batches
from .._config import DEFAULT_BATCH_CONCURRENCY
from .._lifecycle import job_ref
from .._pagination import Pager
from .._validation import check_batch, check_bool, check_enum, check_list, check_uuid
from .._wire import Adapter, send_updates, v2, v3
from ..models import (
    ExportJob,
    ExportJobItem,
    ExportJobItemUpdate,
    ExportJobItemUpdateV3,
    ExportJobItemV3,
    ExportJobV3,
    UpdateExportJobItem,
    UpdateExportJobItemV3,
)
from ._base import PagingOptions, Resource

__all__ = ["JobItems", "JobItemsV2", "JobItemsV3"]

ItemT = TypeVar("ItemT")
UpdateT = TypeVar("UpdateT")
ResultT = TypeVar("ResultT")
IdLike = str | uuid.UUID


class JobItems(Resource, Generic[ItemT, UpdateT, ResultT]):
    """The items of export jobs; ``pleo.job_items`` (v3) or ``pleo.v2.job_items``."""

    _wire: ClassVar[Adapter[Any]]

    @property
    def item_failure_types(self) -> type[StrEnum]:
        """This version's item-level failure type enum (18 values on v3, 14 on v2)."""
        return self._wire.item_failure_types

    def list(
        self,
        job_id: IdLike,
        *,
        status: str | None = None,
        **paging: Unpack[PagingOptions],
    ) -> Pager[ItemT]:
        """Iterate over a job's items, optionally only those in one ``status``.

        Paging arguments (``PagingOptions``) as in ``jobs.list``.

        Raises:
            InvalidArgumentError: a bad argument, before any request.
            ExportNotFoundError: no job with that id (on the first page).
        """
        args = self._list_args(paging)
        params: dict[str, Any] = {}
        if status is not None:
            params["status"] = check_enum(status, self._wire.item_statuses, "status")
        job = check_uuid(job_id, "job_id")
        return self._pager(self._wire.list_job_items, args, job, **params)

    async def update(
        self, job_id: IdLike, updates: Sequence[UpdateT | Mapping[str, object]]
    ) -> ResultT:
        """Report the outcome of at most 100 items in one request (PUT, retried safely).

        ``updates`` are generated update models or dicts in the API's JSON shape
        (``{"accountingEntryId": …, "status": "successful", "externalId": …}``). Per-item
        failures come back in the result's ``errors``, not as exceptions.

        Raises:
            InvalidArgumentError: more than 100 updates, none, or a malformed one.
            JobFinishedError: the job is finished; its items can no longer change.
        """
        check_batch(len(check_list(updates, "updates")))
        body = [self._wire.coerce_update(update, index) for index, update in enumerate(updates)]
        return await self._send(check_uuid(job_id, "job_id"), body)

    async def _send(self, job_id: uuid.UUID, body: Sequence[UpdateT]) -> ResultT:
        result: ResultT = await send_updates(self._seam, self._wire.update_job_items, job_id, body)
        return result

    async def update_all(
        self,
        job: IdLike | ExportJobV3 | ExportJob,
        updates: Sequence[UpdateT | Mapping[str, object]],
        *,
        concurrency: int = DEFAULT_BATCH_CONCURRENCY,
        raise_on_error: bool = False,
    ) -> BatchResult:
        """Report the outcome of any number of items: batches of 100, some in flight at once.

        Args:
            job: the job id or job model.
            updates: update models or dicts, as for ``update``; each accounting entry once.
            concurrency: batches in flight at once (default 4).
            raise_on_error: raise ``BatchUpdateError`` unless every update was applied.

        Returns:
            A ``BatchResult``: the items updated, Pleo's per-item ``errors`` and every failed
            batch with its exception and updates. Nothing is dropped.

        Raises:
            InvalidArgumentError: a malformed or repeated update (before any request).
            BatchUpdateError: ``raise_on_error`` and something was not applied.
        """
        job_id = check_uuid(job_ref(job)[0], "job")
        updates = check_list(updates, "updates")  # type: ignore[assignment]
        models = [self._wire.coerce_update(update, index) for index, update in enumerate(updates)]
        return await send_batches(
            lambda batch: self._send(job_id, batch),
            models,
            given=updates,
            job_id=job_id,
            concurrency=concurrency,
            raise_on_error=check_bool(raise_on_error, "raise_on_error"),
        )


class JobItemsV3(JobItems[ExportJobItemV3, UpdateExportJobItemV3, ExportJobItemUpdateV3]):
    """Job items through the v3 endpoints (the default)."""

    _wire = v3.ADAPTER

    async def get_by_accounting_entry(
        self, *, company_id: IdLike, accounting_entry_id: IdLike
    ) -> ExportJobItemV3:
        """The job item for one accounting entry (an endpoint Pleo marks internal).

        Raises:
            ExportEntryNotFoundError: no job item for that entry.
        """
        item: ExportJobItemV3 = await self._get(
            v3.GET_JOB_ITEM_BY_ENTRY,
            company_id=check_uuid(company_id, "company_id"),
            accounting_entry_id=check_uuid(accounting_entry_id, "accounting_entry_id"),
            where="ExportJobItemV3",
        )
        return item


class JobItemsV2(JobItems[ExportJobItem, UpdateExportJobItem, ExportJobItemUpdate]):
    """Job items through the v2 endpoints."""

    _wire = v2.ADAPTER
