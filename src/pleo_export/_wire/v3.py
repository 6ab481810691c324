"""The v3 adapter (the default version): its endpoints, enums and item update model."""

from __future__ import annotations

from pleo_export_raw.api.export_api_v_3 import (
    create_export_job_event_v3,
    create_export_job_v3,
    get_export_job_by_id_v3,
    get_export_job_item_by_accounting_entry_id_v3,
    get_export_job_items_v3,
    get_export_jobs_list_v3,
    update_export_job_items_v3,
)
from pleo_export_raw.api.export_items_v_3 import get_export_items_v3
from pleo_export_raw.models import (
    CursorPaginatedResponseExportItemV3,
    CursorPaginatedResponseExportJobItemV3,
    CursorPaginatedResponseExportJobV3,
    DataResponseExportJobItemV3,
    DataResponseExportJobV3,
    ExportJobItemFailureReasonType,
    ExportJobItemStatus,
    ExportJobItemUpdateV3,
    ExportJobStatus,
    UpdateExportJobItemV3,
)

from ._adapter import Adapter, Endpoint
from ._common import update_builders

__all__ = ["ADAPTER", "GET_JOB_ITEM_BY_ENTRY"]


#: The job item of one accounting entry (an endpoint Pleo marks internal; v3 only).
GET_JOB_ITEM_BY_ENTRY = Endpoint(
    get_export_job_item_by_accounting_entry_id_v3, DataResponseExportJobItemV3
)

_UPDATE_FROM, _COERCE = update_builders(
    UpdateExportJobItemV3, status=ExportJobItemStatus, failure_types=ExportJobItemFailureReasonType
)

ADAPTER: Adapter[UpdateExportJobItemV3] = Adapter(
    version="v3",
    list_jobs=Endpoint(get_export_jobs_list_v3, CursorPaginatedResponseExportJobV3),
    get_job=Endpoint(get_export_job_by_id_v3, DataResponseExportJobV3),
    create_job=Endpoint(create_export_job_v3, DataResponseExportJobV3),
    post_event=Endpoint(create_export_job_event_v3, None),
    list_job_items=Endpoint(get_export_job_items_v3, CursorPaginatedResponseExportJobItemV3),
    update_job_items=Endpoint(update_export_job_items_v3, ExportJobItemUpdateV3),
    list_export_items=Endpoint(get_export_items_v3, CursorPaginatedResponseExportItemV3),
    job_statuses=ExportJobStatus,
    item_statuses=ExportJobItemStatus,
    item_failure_types=ExportJobItemFailureReasonType,
    update_from=_UPDATE_FROM,
    coerce_update=_COERCE,
)
