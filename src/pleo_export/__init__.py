"""pleo-export: the async Python SDK for Pleo's Export API.

``import pleo_export`` is cheap: each public name is imported on first use (PEP 562), so a
service that never touches, say, the v2 models never pays for them.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ._answers import BatchAnswer, BatchAnswerError, JobAbortedError
    from ._api import V2Resources, V3Resources
    from ._auth import ApiKeyAuth, BearerAuth, TokenSource
    from ._batch import BatchResult, BatchUpdateError, FailedBatch
    from ._client import PleoExport
    from ._config import __version__
    from ._errors import (
        APIConnectionError,
        APIStatusError,
        APITimeoutError,
        AuthenticationError,
        BadRequestError,
        ClientClosedError,
        ConflictError,
        CoordinatorError,
        ExportAlreadyInProgressError,
        ExportEntryNotFoundError,
        ExportNotFoundError,
        FileDownloadError,
        FileExpiredError,
        FileSizeMismatchError,
        FileTooLargeError,
        InvalidArgumentError,
        InvalidStatusChangeError,
        InvalidTransitionError,
        JobFinishedError,
        LeaseHeldError,
        LeaseLostError,
        MissingContraAccountsError,
        NotFoundError,
        PayloadTooLargeError,
        PermissionDeniedError,
        PleoError,
        RateLimitError,
        ResponseTooLargeError,
        ResponseValidationError,
        ServerError,
        UnprocessableEntityError,
        UnsupportedApiVersionError,
        UpdateLimitError,
    )
    from ._files import DownloadedFile, Files
    from ._observe._hooks import RequestInfo, ResponseInfo, RetryInfo
    from ._observe._meta import ResponseMeta, with_response
    from ._outcome import Booked, Outcome, Rejected, Retry
    from ._pagination import Cursor, Page, Pager, PaginationError
    from ._reader import RunStats
    from ._resources._base import PagingOptions
    from ._retry import RetryPolicy
    from ._run import ExportRun
    from ._work import ItemFile, WorkItem
    from ._worker import ExportWorker
    from ._worker_state import Progress, WorkerOptions, WorkerStats

#: Public name → the private module that defines it.
_EXPORTS: dict[str, str] = {
    "__version__": "_config",
    "APIConnectionError": "_errors",
    "APIStatusError": "_errors",
    "APITimeoutError": "_errors",
    "ApiKeyAuth": "_auth",
    "AuthenticationError": "_errors",
    "BadRequestError": "_errors",
    "ClientClosedError": "_errors",
    "BatchAnswer": "_answers",
    "BatchAnswerError": "_answers",
    "BatchResult": "_batch",
    "BatchUpdateError": "_batch",
    "BearerAuth": "_auth",
    "Booked": "_outcome",
    "ConflictError": "_errors",
    "CoordinatorError": "_errors",
    "Cursor": "_pagination",
    "DownloadedFile": "_files",
    "ExportAlreadyInProgressError": "_errors",
    "ExportEntryNotFoundError": "_errors",
    "ExportNotFoundError": "_errors",
    "ExportRun": "_run",
    "ExportWorker": "_worker",
    "FailedBatch": "_batch",
    "FileDownloadError": "_errors",
    "FileExpiredError": "_errors",
    "FileSizeMismatchError": "_errors",
    "FileTooLargeError": "_errors",
    "Files": "_files",
    "InvalidArgumentError": "_errors",
    "InvalidStatusChangeError": "_errors",
    "InvalidTransitionError": "_errors",
    "ItemFile": "_work",
    "JobAbortedError": "_answers",
    "JobFinishedError": "_errors",
    "LeaseHeldError": "_errors",
    "LeaseLostError": "_errors",
    "MissingContraAccountsError": "_errors",
    "NotFoundError": "_errors",
    "Outcome": "_outcome",
    "Page": "_pagination",
    "PaginationError": "_pagination",
    "PagingOptions": "_resources._base",
    "Pager": "_pagination",
    "PayloadTooLargeError": "_errors",
    "PermissionDeniedError": "_errors",
    "PleoError": "_errors",
    "PleoExport": "_client",
    "Progress": "_worker_state",
    "RateLimitError": "_errors",
    "Rejected": "_outcome",
    "RequestInfo": "_observe._hooks",
    "ResponseInfo": "_observe._hooks",
    "ResponseMeta": "_observe._meta",
    "ResponseTooLargeError": "_errors",
    "ResponseValidationError": "_errors",
    "Retry": "_outcome",
    "RetryInfo": "_observe._hooks",
    "RetryPolicy": "_retry",
    "RunStats": "_reader",
    "ServerError": "_errors",
    "TokenSource": "_auth",
    "UnprocessableEntityError": "_errors",
    "UnsupportedApiVersionError": "_errors",
    "UpdateLimitError": "_errors",
    "V2Resources": "_api",
    "V3Resources": "_api",
    "WorkItem": "_work",
    "WorkerOptions": "_worker_state",
    "WorkerStats": "_worker_state",
    "with_response": "_observe._meta",
}

__all__ = [
    "APIConnectionError",
    "APIStatusError",
    "APITimeoutError",
    "ApiKeyAuth",
    "AuthenticationError",
    "BadRequestError",
    "BatchAnswer",
    "BatchAnswerError",
    "BatchResult",
    "BatchUpdateError",
    "BearerAuth",
    "Booked",
    "ClientClosedError",
    "ConflictError",
    "CoordinatorError",
    "Cursor",
    "DownloadedFile",
    "ExportAlreadyInProgressError",
    "ExportEntryNotFoundError",
    "ExportNotFoundError",
    "ExportRun",
    "ExportWorker",
    "FailedBatch",
    "FileDownloadError",
    "FileExpiredError",
    "FileSizeMismatchError",
    "FileTooLargeError",
    "Files",
    "InvalidArgumentError",
    "InvalidStatusChangeError",
    "InvalidTransitionError",
    "ItemFile",
    "JobAbortedError",
    "JobFinishedError",
    "LeaseHeldError",
    "LeaseLostError",
    "MissingContraAccountsError",
    "NotFoundError",
    "Outcome",
    "Page",
    "Pager",
    "PaginationError",
    "PagingOptions",
    "PayloadTooLargeError",
    "PermissionDeniedError",
    "PleoError",
    "PleoExport",
    "Progress",
    "RateLimitError",
    "Rejected",
    "RequestInfo",
    "ResponseInfo",
    "ResponseMeta",
    "ResponseTooLargeError",
    "ResponseValidationError",
    "Retry",
    "RetryInfo",
    "RetryPolicy",
    "RunStats",
    "ServerError",
    "TokenSource",
    "UnprocessableEntityError",
    "UnsupportedApiVersionError",
    "UpdateLimitError",
    "V2Resources",
    "V3Resources",
    "WorkItem",
    "WorkerOptions",
    "WorkerStats",
    "__version__",
    "with_response",
]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'pleo_export' has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return __all__
