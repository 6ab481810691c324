"""Job items (the control layer): list with a status filter, update one batch of ≤100, and
look one up by accounting entry (v3). Batching any number of updates lives in ``_batch``.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from typing import Any, Generic, TypeVar

from pleo_export_raw.api.export_api_v_2 import get_export_job_items_v2, update_export_job_items_v2
from pleo_export_raw.api.export_api_v_3 import (
    get_export_job_item_by_accounting_entry_id_v3,
    get_export_job_items_v3,
    update_export_job_items_v3,
)
from pleo_export_raw.models import (
    CursorPaginatedResponseExportJobItem,
    CursorPaginatedResponseExportJobItemV3,
    DataResponseExportJobItemV3,
    ExportJobItem,
    ExportJobItemStatus,
    ExportJobItemUpdate,
    ExportJobItemUpdateV3,
    ExportJobItemV3,
    GetExportJobItemsV2Status,
    UpdateExportJobItem,
    UpdateExportJobItemV3,
)

from .._batch import BatchResult, update_all
from .._config import DEFAULT_BATCH_CONCURRENCY
from .._drift import note_unknowns
from .._errors import InvalidArgumentError
from .._pagination import Pager
from .._validation import check_batch, check_enum, check_list, check_uuid
from ._base import Resource

__all__ = ["JobItems", "JobItemsV2", "JobItemsV3"]

ItemT = TypeVar("ItemT")
UpdateT = TypeVar("UpdateT")
ResultT = TypeVar("ResultT")
IdLike = str | uuid.UUID


class JobItems(Resource, Generic[ItemT, UpdateT, ResultT]):
    """The items of export jobs; ``pleo.job_items`` (v3) or ``pleo.v2.job_items``."""

    _list_op: Any
    _list_model: Any
    _update_op: Any
    _update_model: Any
    _update_item: Any
    _status_enum: Any

    def list(
        self,
        job_id: IdLike,
        *,
        status: str | None = None,
        limit: int | None = None,
        after: str | None = None,
        before: str | None = None,
        offset: int | None = None,
        sorting_keys: Sequence[str] | None = None,
        sorting_order: Sequence[str] | None = None,
        max_items: int | None = None,
        prefetch: int | None = None,
    ) -> Pager[ItemT]:
        """Iterate over a job's items, optionally only those in one ``status``.

        Paging arguments as in ``jobs.list``.

        Raises:
            InvalidArgumentError: a bad argument, before any request.
            ExportNotFoundError: no job with that id (on the first page).
        """
        args = self._list_args(
            limit=limit,
            after=after,
            before=before,
            offset=offset,
            sorting_keys=sorting_keys,
            sorting_order=sorting_order,
            max_items=max_items,
            prefetch=prefetch,
        )
        params: dict[str, Any] = {}
        if status is not None:
            params["status"] = check_enum(status, self._status_enum, "status")
        job = check_uuid(job_id, "job_id")
        return self._pager(self._list_op, self._list_model, args, job, **params)

    async def update(
        self, job_id: IdLike, updates: Sequence[UpdateT | Mapping[str, Any]]
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
        body = [self._coerce(update, index) for index, update in enumerate(updates)]
        kwargs = self._update_op._get_kwargs(check_uuid(job_id, "job_id"), body=body)
        result: ResultT = await self._seam.call(kwargs, self._update_model)
        note_unknowns(result, where="ExportJobItemUpdate")
        return result

    async def update_all(
        self,
        job: IdLike | Any,
        updates: Sequence[UpdateT | Mapping[str, Any]],
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
        return await update_all(
            self, job, updates, concurrency=concurrency, raise_on_error=raise_on_error
        )

    def _coerce(self, update: object, index: int) -> Any:
        if isinstance(update, self._update_item):
            return update
        if isinstance(update, Mapping):
            try:
                model = self._update_item.from_dict(dict(update))
            except (KeyError, TypeError, ValueError, AttributeError) as exc:
                raise InvalidArgumentError(
                    f"updates[{index}]", f"not a valid job item update: {exc!r}"
                ) from None
            # from_dict keeps unknown keys and unknown enum strings; from a dict they are typos
            # (``"succesful"``, ``"externalID"``) that Pleo would reject or silently drop.
            if model.additional_properties:
                raise InvalidArgumentError(
                    f"updates[{index}]",
                    f"unknown field(s) {sorted(model.additional_properties)}; the API's names are "
                    "accountingEntryId, status, exportedAt, externalId, externalUrl, "
                    "failureReason, failureReasonType",
                )
            for key, attribute in (
                ("status", "status"),
                ("failureReasonType", "failure_reason_type"),
            ):
                if isinstance(update.get(key), str):
                    check_enum(
                        update[key], type(getattr(model, attribute)), f"updates[{index}].{key}"
                    )
            return model
        raise InvalidArgumentError(
            f"updates[{index}]",
            f"expected {self._update_item.__name__} or a dict, got {type(update).__name__}",
        )


class JobItemsV3(JobItems[ExportJobItemV3, UpdateExportJobItemV3, ExportJobItemUpdateV3]):
    """Job items through the v3 endpoints (the default)."""

    _list_op = get_export_job_items_v3
    _list_model = CursorPaginatedResponseExportJobItemV3
    _update_op = update_export_job_items_v3
    _update_model = ExportJobItemUpdateV3
    _update_item = UpdateExportJobItemV3
    _status_enum = ExportJobItemStatus

    async def get_by_accounting_entry(
        self, *, company_id: IdLike, accounting_entry_id: IdLike
    ) -> ExportJobItemV3:
        """The job item for one accounting entry (an endpoint Pleo marks internal).

        Raises:
            ExportEntryNotFoundError: no job item for that entry.
        """
        kwargs = get_export_job_item_by_accounting_entry_id_v3._get_kwargs(
            company_id=check_uuid(company_id, "company_id"),
            accounting_entry_id=check_uuid(accounting_entry_id, "accounting_entry_id"),
        )
        item: ExportJobItemV3 = await self._get(
            kwargs, DataResponseExportJobItemV3, where="ExportJobItemV3"
        )
        return item


class JobItemsV2(JobItems[ExportJobItem, UpdateExportJobItem, ExportJobItemUpdate]):
    """Job items through the v2 endpoints."""

    _list_op = get_export_job_items_v2
    _list_model = CursorPaginatedResponseExportJobItem
    _update_op = update_export_job_items_v2
    _update_model = ExportJobItemUpdate
    _update_item = UpdateExportJobItem
    _status_enum = GetExportJobItemsV2Status
