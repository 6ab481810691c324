"""The resource classes ``PleoExport`` exposes, one module per API resource."""

from ._base import paginate
from .export_items import ExportItems, ExportItemsV2, ExportItemsV3
from .export_job_items import JobItems, JobItemsV2, JobItemsV3
from .export_jobs import ExportJobs, ExportJobsV2, ExportJobsV3

__all__ = [
    "ExportItems",
    "ExportItemsV2",
    "ExportItemsV3",
    "ExportJobs",
    "ExportJobsV2",
    "ExportJobsV3",
    "JobItems",
    "JobItemsV2",
    "JobItemsV3",
    "paginate",
]
