"""Export items (the data layer): the accounting payload of each entry in a running job."""

from __future__ import annotations

import uuid
from typing import Any, ClassVar, Generic, TypeVar, Unpack

from .._pagination import Pager
from .._validation import check_uuid
from .._wire import Adapter, v2, v3
from ..models import ExportItemV2, ExportItemV3
from ._base import PagingOptions, Resource

__all__ = ["ExportItems", "ExportItemsV2", "ExportItemsV3"]

ItemT = TypeVar("ItemT")


class ExportItems(Resource, Generic[ItemT]):
    """Export items of one API version; ``pleo.export_items`` (v3) or ``pleo.v2.export_items``."""

    _wire: ClassVar[Adapter[Any]]

    def list(
        self,
        job_id: str | uuid.UUID,
        **paging: Unpack[PagingOptions],
    ) -> Pager[ItemT]:
        """Iterate over the export items of a pending or in-progress job.

        Paging arguments (``PagingOptions``) as in ``jobs.list``. File URLs in the items expire
        24 h after the fetch.

        Raises:
            JobFinishedError: the job is finished (on the first page).
            MissingContraAccountsError: v3, contra accounts not mapped in Pleo.
            UnsupportedApiVersionError: v2, the company must use v3.
        """
        args = self._list_args(paging)
        job = check_uuid(job_id, "job_id")
        return self._pager(self._wire.list_export_items, args, job_id=job)


class ExportItemsV3(ExportItems[ExportItemV3]):
    """Export items through the v3 endpoint (the default)."""

    _wire = v3.ADAPTER


class ExportItemsV2(ExportItems[ExportItemV2]):
    """Export items through the v2 endpoint."""

    _wire = v2.ADAPTER
