"""The fake's own copy of Pleo's Export API rules: enums, limits, transitions and error bodies.

It deliberately imports nothing from the SDK, so a misread rule cannot hide in both. The numbers
Pleo does not publish (page sizes) are our choices and are marked as such.
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "CONTENT_TYPE",
    "DEFAULT_API_KEY",
    "DEFAULT_BEARER_TOKEN",
    "DEFAULT_EXPIRES_IN",
    "DEFAULT_PAGE_LIMIT",
    "FINAL_JOB_STATUSES",
    "ITEM_FAILURE_REASON_TYPES_V2",
    "ITEM_FAILURE_REASON_TYPES_V3",
    "ITEM_STATUSES",
    "JOB_EVENTS",
    "JOB_FAILURE_REASON_TYPES",
    "JOB_STATUSES",
    "MAX_ITEMS_PER_UPDATE",
    "MAX_PAGE_LIMIT",
    "PAGE_ORDERS",
    "RUNNING_JOB_STATUSES",
    "UNFINISHED_ITEM_STATUSES",
    "ApiError",
    "next_job_status",
]

CONTENT_TYPE = "application/json;charset=UTF-8"

DEFAULT_API_KEY = "pleo-test-key"
DEFAULT_BEARER_TOKEN = "pleo-test-token"

#: Seconds a running job may sit idle (since ``lastUpdatedAt``) before Pleo fails it.
DEFAULT_EXPIRES_IN = 3600
#: Pleo rejects a job-item update with more elements than this (413).
MAX_ITEMS_PER_UPDATE = 100
#: Page size when ``limit`` is absent. Pleo does not document its own; this is our choice.
DEFAULT_PAGE_LIMIT = 20
#: Larger ``limit`` values are clamped to this. Also our choice: Pleo's maximum is undocumented.
MAX_PAGE_LIMIT = 1000

JOB_STATUSES = ("pending", "in_progress", "failed", "completed", "completed_with_errors")
RUNNING_JOB_STATUSES = frozenset({"pending", "in_progress"})
FINAL_JOB_STATUSES = frozenset({"failed", "completed", "completed_with_errors"})
JOB_EVENTS = ("started", "failed", "completed", "completed_with_errors")
ITEM_STATUSES = ("pending", "in_progress", "failed", "successful", "abandoned")
UNFINISHED_ITEM_STATUSES = frozenset({"pending", "in_progress"})
PAGE_ORDERS = (
    "ASC",
    "ASC_NULLS_FIRST",
    "ASC_NULLS_LAST",
    "DESC",
    "DESC_NULLS_FIRST",
    "DESC_NULLS_LAST",
)

JOB_FAILURE_REASON_TYPES = (
    "invalid_configuration",
    "missing_configuration",
    "authentication_failure",
    "accounting_system_authentication_failure",
    "pleo_rate_limit",
    "accounting_system_rate_limit",
    "service_unreachable",
    "accounting_system_unreachable",
    "validation_failure",
    "authorization_failure",
    "integration_unusable",
    "job_expired",
    "service_timeout",
    "accounting_system_timeout",
    "canceled_by_user",
)
ITEM_FAILURE_REASON_TYPES_V2 = (
    "receipt_upload_failure",
    "receipt_download_failure",
    "receipt_file_size_limit_exceeded",
    "receipt_conversion_failure",
    "unexpected_failure",
    "invalid_configuration",
    "missing_configuration",
    "accounting_system_authentication_failure",
    "accounting_system_rate_limit",
    "accounting_system_unreachable",
    "validation_failure",
    "accounting_system_validation_failure",
    "authorization_failure",
    "accounting_system_timeout",
)
# v3 adds four lookup failures, so an AP integration can say which master data was missing.
ITEM_FAILURE_REASON_TYPES_V3 = (
    *ITEM_FAILURE_REASON_TYPES_V2,
    "vendor_unknown",
    "account_unknown",
    "tax_code_unknown",
    "tag_unknown",
)

# pending --started--> in_progress --completed|completed_with_errors|failed--> final.
_TRANSITIONS = {
    ("pending", "started"): "in_progress",
    ("in_progress", "completed"): "completed",
    ("in_progress", "completed_with_errors"): "completed_with_errors",
    ("in_progress", "failed"): "failed",
}


def next_job_status(current: str, event: str) -> str | None:
    """Return the status a job in ``current`` moves to on ``event``, or None if not allowed."""
    return _TRANSITIONS.get((current, event))


class ApiError(Exception):
    """An error answer of the fake: an HTTP status plus an ExceptionInfo ``type`` and message."""

    def __init__(self, status: int, type_: str, message: str) -> None:
        super().__init__(f"{status} {type_}: {message}")
        self.status = status
        self.type = type_
        self.message = message

    def body(self) -> dict[str, Any]:
        """Return the ExceptionInfo JSON object for this error."""
        return {"type": self.type, "message": self.message}

    @classmethod
    def bad_request(cls, message: str, type_: str = "INVALID_REQUEST") -> ApiError:
        """A 400 for malformed input (bad JSON, a non-UUID id, an unknown enum value...)."""
        return cls(400, type_, message)

    @classmethod
    def job_not_found(cls) -> ApiError:
        """The 404 for a job id the fake does not know."""
        return cls(404, "EXPORT_NOT_FOUND", "No export job with this id.")

    @classmethod
    def job_finished(cls) -> ApiError:
        """The 422 for reading export items of, or updating items in, a finished job."""
        return cls(
            422,
            "EXPORT_JOB_STATUS_UNPROCESSABLE",
            "The export job has finished; its items can no longer be read or updated.",
        )
