"""The synchronous client: ``from pleo_export.sync import PleoExport, ExportWorker``.

The same resources, pagination, transition helpers, batches, export runs, worker, files,
``with_options``, ``with_response``, errors and typed models as ``pleo_export``, without
``await``::

    with PleoExport(api_key=...) as pleo:
        for job in pleo.jobs.list(statuses=["pending"]):
            with pleo.export_run(job) as run:
                for work in run.pending():
                    run.succeeded(work, external_id=ledger.book(work.export_item))

One implementation: the sync client drives the async one on a private event loop in a thread
of its own, so it works from many threads at once, inside a running event loop (a notebook)
and in a process forked after it was used (a Celery prefork worker). Values that are not
clients (``Booked``, ``WorkItem``, ``Page``, the errors…) are the async API's own, re-exported.
"""

from __future__ import annotations

from pleo_export import (
    BatchAnswer,
    BatchAnswerError,
    BatchResult,
    BatchUpdateError,
    Booked,
    ClientClosedError,
    Cursor,
    DownloadedFile,
    InvalidArgumentError,
    ItemFile,
    JobAbortedError,
    Outcome,
    Page,
    PleoError,
    Progress,
    Rejected,
    ResponseMeta,
    Retry,
    RunStats,
    WorkerStats,
    WorkItem,
)

from ._client import PleoExport, V2Resources, V3Resources
from ._core import with_response
from ._pool import BatchHandler, Handler
from ._portal import PortalClosedError
from ._resources import ExportItems, Files, JobItems, JobItemsV3, Jobs, Pager
from ._run import ExportRun
from ._worker import ExportWorker

__all__ = [
    "BatchAnswer",
    "BatchAnswerError",
    "BatchHandler",
    "BatchResult",
    "BatchUpdateError",
    "Booked",
    "ClientClosedError",
    "Cursor",
    "DownloadedFile",
    "ExportItems",
    "ExportRun",
    "ExportWorker",
    "Files",
    "Handler",
    "InvalidArgumentError",
    "ItemFile",
    "JobAbortedError",
    "JobItems",
    "JobItemsV3",
    "Jobs",
    "Outcome",
    "Page",
    "Pager",
    "PleoError",
    "PleoExport",
    "PortalClosedError",
    "Progress",
    "Rejected",
    "ResponseMeta",
    "Retry",
    "RunStats",
    "V2Resources",
    "V3Resources",
    "WorkItem",
    "WorkerStats",
    "with_response",
]
