"""The exceptions the SDK raises, and the tables that pick one for a failed response.

::

    PleoError
    ├── APIConnectionError              the request never got an HTTP answer
    │   └── APITimeoutError             …because a timeout ran out
    ├── APIStatusError                  Pleo (or a proxy) answered with a non-2xx status
    │   ├── BadRequestError             400
    │   │   ├── MissingContraAccountsError      MISSING_CONTRA_ACCOUNTS
    │   │   └── UnsupportedApiVersionError      UNSUPPORTED_API_VERSION
    │   ├── AuthenticationError         401
    │   ├── PermissionDeniedError       403
    │   ├── NotFoundError               404
    │   │   ├── ExportNotFoundError             EXPORT_NOT_FOUND
    │   │   └── ExportEntryNotFoundError        EXPORT_ENTRY_NOT_FOUND
    │   ├── ConflictError               409
    │   │   └── ExportAlreadyInProgressError    EXPORT_ALREADY_IN_PROGRESS
    │   ├── PayloadTooLargeError        413
    │   │   └── UpdateLimitError                EXPORT_JOB_ITEMS_UPDATE_LIMIT
    │   ├── UnprocessableEntityError    422
    │   │   ├── InvalidStatusChangeError        INVALID_EXPORT_JOB_STATUS_CHANGE
    │   │   └── JobFinishedError                EXPORT_JOB_STATUS_UNPROCESSABLE
    │   ├── RateLimitError              429
    │   └── ServerError                 5xx, including undocumented ones such as 520
    ├── ResponseValidationError         a 2xx whose body does not parse as the spec says
    ├── ResponseTooLargeError           a body over max_response_bytes (after decompression)
    ├── ClientClosedError               the client was closed before or during the call
    ├── FileDownloadError               an export item's file could not be downloaded
    │   ├── FileTooLargeError               …it is over the size cap (30 MiB by default)
    │   ├── FileSizeMismatchError           …its bytes differ from the declared size
    │   └── FileExpiredError                …its URL is refused even after a refresh
    ├── PaginationError                 a listing that would loop or skip (_pagination)
    ├── BatchUpdateError                some item updates of a call were not applied (_batch)
    ├── JobAbortedError                 a handler ends its job on purpose (_answers)
    ├── BatchAnswerError                a batch handler's answer does not fit its batch (_answers)
    ├── WebhookError                    a webhook delivery refused (webhooks/_errors)
    │   ├── WebhookHeaderMissingError       a webhook-id/-timestamp/-signature header missing
    │   ├── WebhookTimestampError           the timestamp is outside the tolerance
    │   │   └── WebhookTimestampFormatError     …or not unix seconds a date can hold
    │   ├── WebhookSignatureError           no signature matches the secret
    │   ├── WebhookPayloadError             the body is not a JSON event with the job's ids
    │   └── WebhookReplayError              the webhook id was seen before
    ├── InvalidArgumentError            a bad argument, caught before any request (also ValueError)
    ├── InvalidTransitionError          a job event the job's known status forbids (also ValueError)
    └── CoordinatorError                a coordinator's database failed or holds a newer schema
        ├── LeaseLostError              the writer's lease on a job was superseded or ran out
        └── LeaseHeldError              another worker holds the lease on the job or its company

Pleo's error ``type`` is matched case-insensitively (its docs spell MISSING_CONTRA_ACCOUNTS both
ways). Messages carry the method, path and a short body snippet, never a credential: every field
taken from a response is scrubbed (``_secrets.scrub``: secrets masked, control characters
escaped, at most ``ERROR_FIELD_MAX_CHARS`` characters).
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any, Final

from ._secrets import escape_controls, redact, scrub

if TYPE_CHECKING:
    import httpx

__all__ = [
    "ERROR_TYPES",
    "APIConnectionError",
    "APIStatusError",
    "APITimeoutError",
    "AuthenticationError",
    "BadRequestError",
    "ClientClosedError",
    "ConflictError",
    "CoordinatorError",
    "ExportAlreadyInProgressError",
    "ExportEntryNotFoundError",
    "ExportNotFoundError",
    "FileDownloadError",
    "FileExpiredError",
    "FileSizeMismatchError",
    "FileTooLargeError",
    "InvalidArgumentError",
    "InvalidStatusChangeError",
    "InvalidTransitionError",
    "JobFinishedError",
    "LeaseHeldError",
    "LeaseLostError",
    "MissingContraAccountsError",
    "NotFoundError",
    "PayloadTooLargeError",
    "PermissionDeniedError",
    "PleoError",
    "RateLimitError",
    "ResponseTooLargeError",
    "ResponseValidationError",
    "ServerError",
    "UnprocessableEntityError",
    "UnsupportedApiVersionError",
    "UpdateLimitError",
    "body_snippet",
    "request_id",
    "status_error",
]

_SNIPPET_CHARS: Final = 200
#: Response headers that may carry a request id, in the order they are tried.
_REQUEST_ID_HEADERS: Final = ("x-request-id", "request-id", "x-amzn-requestid", "x-correlation-id")


class PleoError(Exception):
    """Base class of every error the SDK raises."""


class APIConnectionError(PleoError):
    """The request got no HTTP answer: DNS, connect, reset or protocol failure."""

    def __init__(self, message: str, *, method: str, path: str) -> None:
        super().__init__(f"{message} ({method} {path})")
        self.method = method
        self.path = path


class APITimeoutError(APIConnectionError):
    """A connect, read, write or pool timeout ran out."""


class APIStatusError(PleoError):
    """Pleo answered with a non-2xx status; ``type`` and ``message`` come from its ExceptionInfo."""

    def __init__(
        self,
        *,
        status_code: int,
        method: str,
        path: str,
        type: str | None,
        message: str | None,
        request_id: str | None,
        body_snippet: str,
    ) -> None:
        self.status_code = status_code
        self.method = method
        self.path = path
        self.type = type
        self.message = message
        self.request_id = request_id
        self.body_snippet = body_snippet
        detail = f"{type}: {message}" if type else (message or body_snippet or "no body")
        suffix = f" [request id {request_id}]" if request_id else ""
        super().__init__(f"{status_code} from {method} {path}: {detail}{suffix}")


class BadRequestError(APIStatusError):
    """400: Pleo refused the request as malformed."""


class MissingContraAccountsError(BadRequestError):
    """400 MISSING_CONTRA_ACCOUNTS: contra accounts are not mapped in Pleo for some currency."""


class UnsupportedApiVersionError(BadRequestError):
    """400 UNSUPPORTED_API_VERSION: this company (multi-currency) must use v3."""


class AuthenticationError(APIStatusError):
    """401: missing, wrong or expired credentials."""


class PermissionDeniedError(APIStatusError):
    """403: the credentials lack a scope the operation needs."""


class NotFoundError(APIStatusError):
    """404: the resource does not exist."""


class ExportNotFoundError(NotFoundError):
    """404 EXPORT_NOT_FOUND: no export job with that id."""


class ExportEntryNotFoundError(NotFoundError):
    """404 EXPORT_ENTRY_NOT_FOUND: no job item for that accounting entry."""


class ConflictError(APIStatusError):
    """409: the request conflicts with the current state."""


class ExportAlreadyInProgressError(ConflictError):
    """409 EXPORT_ALREADY_IN_PROGRESS: the company already has a running export job."""


class PayloadTooLargeError(APIStatusError):
    """413: the request body is too large."""


class UpdateLimitError(PayloadTooLargeError):
    """413 EXPORT_JOB_ITEMS_UPDATE_LIMIT: more than 100 items in one update."""


class UnprocessableEntityError(APIStatusError):
    """422: the request is well formed but the job's state forbids it."""


class InvalidStatusChangeError(UnprocessableEntityError):
    """422 INVALID_EXPORT_JOB_STATUS_CHANGE: the job's status does not allow that event.

    ``actual_status`` is filled in when the SDK re-read the job after a retried event.
    """

    actual_status: str | None = None


class JobFinishedError(UnprocessableEntityError):
    """422 EXPORT_JOB_STATUS_UNPROCESSABLE: the job is finished; its items are read-only."""


class RateLimitError(APIStatusError):
    """429: too many requests; raised once the retries are used up."""


class ServerError(APIStatusError):
    """5xx, documented or not (a 520 from a proxy included)."""


class ResponseValidationError(PleoError):
    """A 2xx response whose body is not what the spec describes (bad JSON, wrong types)."""

    def __init__(self, message: str, *, method: str, path: str, body_snippet: str) -> None:
        super().__init__(f"{message} ({method} {path}): {body_snippet!r}")
        self.method = method
        self.path = path
        self.body_snippet = body_snippet


class ResponseTooLargeError(PleoError):
    """A response body exceeded ``max_response_bytes`` (counted after decompression); the
    connection was dropped without reading the rest."""

    def __init__(self, *, limit: int, method: str, path: str, declared: int | None = None) -> None:
        size = f"declares {declared:,} bytes" if declared is not None else "goes on"
        super().__init__(
            f"the response to {method} {path} {size}, over max_response_bytes={limit:,}"
        )
        self.limit = limit
        self.method = method
        self.path = path


class ClientClosedError(PleoError):
    """The ``PleoExport`` client (or its ``http_client``) was closed before or during the call."""

    def __init__(self, *, method: str, path: str) -> None:
        super().__init__(f"the client is closed ({method} {path})")
        self.method = method
        self.path = path


class FileDownloadError(PleoError):
    """A file of an export item could not be downloaded (connection, status or content).

    ``failure_type`` is the Pleo item failure type to report it with, e.g.
    ``run.failed(work, reason=str(exc), reason_type=exc.failure_type)``. The message names the
    file's host, never its URL: a pre-signed URL's query is a credential.
    """

    failure_type: str = "receipt_download_failure"

    def __init__(
        self,
        message: str,
        *,
        host: str,
        accounting_entry_id: str | None,
        index: int,
        status_code: int | None = None,
    ) -> None:
        entry = f" of entry {accounting_entry_id}" if accounting_entry_id else ""
        super().__init__(f"{message} (file {index}{entry}, host {host})")
        self.host = host
        self.accounting_entry_id = accounting_entry_id
        self.index = index
        self.status_code = status_code


class FileTooLargeError(FileDownloadError):
    """The file is larger than the size cap; reported as ``receipt_file_size_limit_exceeded``."""

    failure_type = "receipt_file_size_limit_exceeded"


class FileSizeMismatchError(FileDownloadError):
    """The bytes received differ in number from the ``size`` the export item declared."""


class FileExpiredError(FileDownloadError):
    """The file host refused the URL (403/404/410) and a fresh one from Pleo did not help."""


class InvalidArgumentError(PleoError, ValueError):
    """A caller argument is invalid; raised before any request is sent."""

    def __init__(self, argument: str, problem: str) -> None:
        super().__init__(f"{argument}: {problem}")
        self.argument = argument


class InvalidTransitionError(PleoError, ValueError):
    """The job's known status does not allow the event; raised before any request is sent."""

    def __init__(self, job_id: str, status: str, event: str, allowed: tuple[str, ...]) -> None:
        hint = f"allowed: {', '.join(allowed)}" if allowed else "the job is final"
        super().__init__(f"job {job_id} is {status!r}: event {event!r} is not allowed ({hint})")
        self.job_id = job_id
        self.status = status
        self.event = event
        self.allowed = allowed


class CoordinatorError(PleoError):
    """A coordinator's database failed, timed out, or holds a schema newer than this SDK knows."""


class LeaseLostError(CoordinatorError):
    """The lease on a job is no longer the writer's: a newer token took it, or it ran out."""

    def __init__(self, job_id: str, token: int, reason: str) -> None:
        super().__init__(f"lease on job {job_id} with token {token} is lost: {reason}")
        self.job_id = job_id
        self.token = token
        self.reason = reason


class LeaseHeldError(CoordinatorError):
    """An export run could not lease its job: another worker's live lease is on the job, or on
    another job of the same company (Pleo runs one export job per company at a time)."""

    def __init__(self, job_id: str, held_job_id: str, holder: str, expires_in: float) -> None:
        super().__init__(
            f"job {job_id} is leased elsewhere: job {held_job_id} by {holder[:200]}"
            f" for {expires_in:.1f} s more"
        )
        self.job_id = job_id
        self.held_job_id = held_job_id
        self.holder = holder
        self.expires_in = expires_in


_STATUS_CLASSES: Final[dict[int, type[APIStatusError]]] = {
    400: BadRequestError,
    401: AuthenticationError,
    403: PermissionDeniedError,
    404: NotFoundError,
    409: ConflictError,
    413: PayloadTooLargeError,
    422: UnprocessableEntityError,
    429: RateLimitError,
}

#: Pleo's documented ExceptionInfo types, upper-cased, and the class each one raises.
ERROR_TYPES: Final[dict[str, type[APIStatusError]]] = {
    "MISSING_CONTRA_ACCOUNTS": MissingContraAccountsError,
    "UNSUPPORTED_API_VERSION": UnsupportedApiVersionError,
    "EXPORT_NOT_FOUND": ExportNotFoundError,
    "EXPORT_ENTRY_NOT_FOUND": ExportEntryNotFoundError,
    "EXPORT_ALREADY_IN_PROGRESS": ExportAlreadyInProgressError,
    "EXPORT_JOB_ITEMS_UPDATE_LIMIT": UpdateLimitError,
    "INVALID_EXPORT_JOB_STATUS_CHANGE": InvalidStatusChangeError,
    "EXPORT_JOB_STATUS_UNPROCESSABLE": JobFinishedError,
}


def status_error(response: httpx.Response, *, method: str, path: str) -> APIStatusError:
    """Build the typed error for a non-2xx response (its body must already be read)."""
    status = response.status_code
    raw_type, message = _exception_info(response.content)
    error_type = None if raw_type is None else scrub(raw_type)
    message = None if message is None else scrub(message)
    cls = _STATUS_CLASSES.get(status, ServerError if status >= 500 else APIStatusError)
    named = ERROR_TYPES.get(raw_type.upper()) if raw_type and len(raw_type) < 64 else None
    if named is not None and issubclass(named, cls):
        cls = named
    return cls(
        status_code=status,
        method=method,
        path=path,
        type=error_type,
        message=message,
        request_id=request_id(response.headers),
        body_snippet=body_snippet(response.content),
    )


def _exception_info(content: bytes) -> tuple[str | None, str | None]:
    """Pleo's ``{type, message}`` if the body is one, else ``(None, None)``."""
    try:
        body: Any = json.loads(content)
    except (ValueError, RecursionError, MemoryError):  # a hostile ``[[[[…`` body included
        return None, None
    if not isinstance(body, dict):
        return None, None
    error_type, message = body.get("type"), body.get("message")
    return (
        error_type if isinstance(error_type, str) else None,
        message if isinstance(message, str) else None,
    )


def request_id(headers: httpx.Headers) -> str | None:
    """The request id a response carries (``X-Request-Id`` and the like), if any."""
    for name in _REQUEST_ID_HEADERS:
        value: str | None = headers.get(name)
        if value:
            return scrub(value)  # a proxy may echo any header here, Authorization included
    return None


def body_snippet(content: bytes) -> str:
    """The first characters of a body, whitespace collapsed and secrets masked, for messages."""
    text = " ".join(content[: _SNIPPET_CHARS * 4].decode("utf-8", "replace").split())
    text = escape_controls(redact(text))
    return text if len(text) <= _SNIPPET_CHARS else text[: _SNIPPET_CHARS - 1] + "…"
