"""The v2 adapter: its endpoints, enums (closed ones, unlike v3's strings) and item update
model."""

from __future__ import annotations

from pleo_export_raw.api.export_api_v_2 import (
    create_export_job_event_v2,
    create_export_job_v2,
    get_export_job_by_id_v2,
    get_export_job_items_v2,
    get_export_jobs_list_v2,
    update_export_job_items_v2,
)
from pleo_export_raw.api.export_items_v_2 import get_export_items_v2
from pleo_export_raw.models import (
    CursorPaginatedResponseExportItemV2,
    CursorPaginatedResponseExportJob,
    CursorPaginatedResponseExportJobItem,
    DataResponseExportJob,
    ExportJobItemFailureReasonTypeV2,
    ExportJobItemUpdate,
    GetExportJobItemsV2Status,
    GetExportJobsListV2StatusesItem,
    UpdateExportJobItem,
    UpdateExportJobItemStatus,
)

from ._adapter import Adapter, Endpoint
from ._common import update_builders

__all__ = ["ADAPTER"]


_UPDATE_FROM, _COERCE = update_builders(
    UpdateExportJobItem,
    status=UpdateExportJobItemStatus,
    failure_types=ExportJobItemFailureReasonTypeV2,
)

ADAPTER: Adapter[UpdateExportJobItem] = Adapter(
    version="v2",
    list_jobs=Endpoint(get_export_jobs_list_v2, CursorPaginatedResponseExportJob),
    get_job=Endpoint(get_export_job_by_id_v2, DataResponseExportJob),
    create_job=Endpoint(create_export_job_v2, DataResponseExportJob),
    post_event=Endpoint(create_export_job_event_v2, None),
    list_job_items=Endpoint(get_export_job_items_v2, CursorPaginatedResponseExportJobItem),
    update_job_items=Endpoint(update_export_job_items_v2, ExportJobItemUpdate),
    list_export_items=Endpoint(get_export_items_v2, CursorPaginatedResponseExportItemV2),
    job_statuses=GetExportJobsListV2StatusesItem,
    item_statuses=GetExportJobItemsV2Status,
    item_failure_types=ExportJobItemFailureReasonTypeV2,
    update_from=_UPDATE_FROM,
    coerce_update=_COERCE,
)
