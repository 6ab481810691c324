"""The parsed webhook: ``WebhookEvent``, the ``JobSnapshot`` an export-job event carries, and the
pure function that turns an authentic body into them; and ``WebhookReplayError``, which carries
one.

Nothing here checks signatures or talks to the network; ``_verify`` does the checking first.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Final

from pleo_export.webhooks._errors import WebhookError, WebhookPayloadError

__all__ = [
    "EXPORT_JOB_CREATED",
    "EXPORT_JOB_CREATED_EVENT_TYPES",
    "JobSnapshot",
    "WebhookEvent",
    "WebhookReplayError",
    "parse_event",
]

#: The event type to subscribe to; Pleo's Subscriptions API example and payloads use it.
EXPORT_JOB_CREATED: Final = "v1.export-job.created"
#: Every spelling of "export job created" in Pleo's pages (pleo-domain.md §6.3); all are accepted.
EXPORT_JOB_CREATED_EVENT_TYPES: Final = frozenset(
    {EXPORT_JOB_CREATED, "v1.export.job-created", "v2.export-job.created", "export-job.created"}
)


@dataclass(frozen=True, slots=True)
class JobSnapshot:
    """The export job as it was when Pleo created it: the fields a webhook's ``data`` carries.

    Webhooks carry only part of a job (no ``isInteractive``, no ``vendorBasedBookkeeping``), so
    this is a small class of its own rather than the API's ``ExportJobV3``: fetch the full job
    with ``client.jobs.get(snapshot.id)`` before acting on it. Only ``id`` and ``company_id`` are
    required; any other field that is absent or does not parse is None, and ``raw`` keeps the
    ``data`` object exactly as sent.

    Attributes:
        id: The job id (a lower-case UUID string).
        company_id: The company the job belongs to (a lower-case UUID string).
        status: The job status when the event was sent (``"pending"`` for a new job).
        created_at: ``createdAt``, an aware datetime.
        created_by: ``createdBy``, the employee who started the export, if any.
        expires_in: ``expiresIn``, seconds of inactivity before the job expires (3600 in
            Pleo's example).
        number_of_items: ``numberOfItems``.
        raw: The ``data`` object as sent, for fields this class does not name.
    """

    id: str
    company_id: str
    status: str | None = None
    created_at: datetime | None = None
    created_by: str | None = None
    expires_in: int | None = None
    number_of_items: int | None = None
    raw: Mapping[str, object] = field(default_factory=dict, repr=False, compare=False, hash=False)


@dataclass(frozen=True, slots=True)
class WebhookEvent:
    """One verified webhook delivery.

    Attributes:
        webhook_id: The ``webhook-id`` header (``msg_…``); the same on every redelivery, so it
            is the key for replay protection and deduplication.
        timestamp: The ``webhook-timestamp`` header, an aware UTC datetime.
        event_id: The body's ``eventId``.
        event_type: The body's ``eventType``, as sent; unknown types are passed through.
        job: The job snapshot if this is an export-job-created event, else None.
        data: The body's ``data`` object as sent (``{}`` if the body had none).
    """

    webhook_id: str
    timestamp: datetime
    event_id: str
    event_type: str
    job: JobSnapshot | None = None
    data: Mapping[str, object] = field(default_factory=dict, repr=False, compare=False, hash=False)

    @property
    def is_export_job_created(self) -> bool:
        """True for every documented spelling of the export-job-created event type."""
        return _is_export_job_created(self.event_type)


class WebhookReplayError(WebhookError):
    """The ``webhook-id`` was accepted before: an attacker's replay or the sender's redelivery.

    Attributes:
        webhook_id: The repeated id.
        event: The delivery, verified and parsed; it is authentic, only not new.
    """

    def __init__(self, event: WebhookEvent) -> None:
        super().__init__(f"webhook {event.webhook_id} was already accepted")
        self.webhook_id = event.webhook_id
        self.event = event


def _is_export_job_created(event_type: str) -> bool:
    return event_type.strip().lower() in EXPORT_JOB_CREATED_EVENT_TYPES


def parse_event(body: str, *, webhook_id: str, timestamp: datetime) -> WebhookEvent:
    """Parse an authentic body ``{data, eventId, eventType}`` into a ``WebhookEvent``.

    Args:
        body: The request body, already verified against its signature.
        webhook_id: The ``webhook-id`` header.
        timestamp: The parsed ``webhook-timestamp`` header.

    Returns:
        The event; ``job`` is set for the export-job-created types.

    Raises:
        WebhookPayloadError: The body is not a JSON object, ``eventType`` or ``eventId`` is not a
            non-empty string, ``data`` is not an object, or an export-job-created event's data
            lacks a UUID ``id`` or ``companyId``.
    """
    try:
        document = json.loads(body)
    except ValueError:
        raise WebhookPayloadError("the body is not JSON") from None
    except RecursionError:  # ``[[[[…`` deeper than the parser's stack
        raise WebhookPayloadError("the body is JSON nested too deeply to read") from None
    if not isinstance(document, dict):
        raise WebhookPayloadError("the body is not a JSON object")
    event_type = _required_string(document, "eventType")
    event_id = _required_string(document, "eventId")
    data = document.get("data", {})
    if not isinstance(data, dict):
        raise WebhookPayloadError("data is not a JSON object")
    job = _job_snapshot(data) if _is_export_job_created(event_type) else None
    return WebhookEvent(
        webhook_id=webhook_id,
        timestamp=timestamp,
        event_id=event_id,
        event_type=event_type,
        job=job,
        data=data,
    )


def _required_string(document: Mapping[str, Any], key: str) -> str:
    value = document.get(key)
    if not isinstance(value, str) or not value.strip():
        raise WebhookPayloadError(f"{key} is missing or not a string")
    return value


def _job_snapshot(data: Mapping[str, Any]) -> JobSnapshot:
    """Read the export-job fields leniently: only the two ids must be there and be UUIDs."""
    job_id = _uuid(data.get("id"))
    company_id = _uuid(data.get("companyId"))
    if job_id is None:
        raise WebhookPayloadError("data.id is missing or not a UUID")
    if company_id is None:
        raise WebhookPayloadError("data.companyId is missing or not a UUID")
    status = data.get("status")
    return JobSnapshot(
        id=job_id,
        company_id=company_id,
        status=status if isinstance(status, str) else None,
        created_at=_datetime(data.get("createdAt")),
        created_by=_uuid(data.get("createdBy")),
        expires_in=_int(data.get("expiresIn")),
        number_of_items=_int(data.get("numberOfItems")),
        raw=data,
    )


def _uuid(value: object) -> str | None:
    if not isinstance(value, str):
        return None
    try:
        return str(uuid.UUID(value))
    except ValueError:
        return None


def _datetime(value: object) -> datetime | None:
    # Pleo's date patterns are not regexes (pleo-domain.md §6.9): parse any ISO 8601, assume UTC.
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)


def _int(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None
