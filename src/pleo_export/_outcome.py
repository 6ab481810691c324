"""Plain value types that orchestration passes around: an item's outcome and a job reference.

They hold no generated models and no wire shapes, so the export run, the outbox, a journal and a
coordinator can share them; the per-version wire adapters turn an ``ItemOutcome`` into the
update model of their API version, one way. ``to_record``/``from_record`` give a JSON-safe
mapping for durable storage.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

__all__ = ["ItemOutcome", "JobRef", "OutcomeStatus"]


class OutcomeStatus(StrEnum):
    """The final status an integration reports for one item."""

    SUCCESSFUL = "successful"
    FAILED = "failed"


@dataclass(frozen=True, slots=True)
class ItemOutcome:
    """What happened to one accounting entry in the integration.

    Attributes:
        accounting_entry_id: the entry the outcome belongs to; the key of every report.
        status: ``successful`` or ``failed``.
        external_id: the ERP's id of the booking (successful only).
        external_url: a link to the booking in the ERP (successful only).
        exported_at: when it was booked, timezone-aware (successful only).
        failure_reason: what went wrong, already cut to Pleo's limit (failed only).
        failure_reason_type: an item-level failure type value of the job's API version
            (failed only; ``None`` leaves it unset).
    """

    accounting_entry_id: uuid.UUID
    status: OutcomeStatus
    external_id: str | None = None
    external_url: str | None = None
    exported_at: datetime | None = None
    failure_reason: str | None = None
    failure_reason_type: str | None = None

    def to_record(self) -> dict[str, str | None]:
        """A JSON-safe mapping of this outcome, for a journal row."""
        return {
            "accounting_entry_id": str(self.accounting_entry_id),
            "status": self.status.value,
            "external_id": self.external_id,
            "external_url": self.external_url,
            "exported_at": None if self.exported_at is None else self.exported_at.isoformat(),
            "failure_reason": self.failure_reason,
            "failure_reason_type": self.failure_reason_type,
        }

    @classmethod
    def from_record(cls, record: Mapping[str, object]) -> ItemOutcome:
        """The outcome ``to_record`` wrote.

        Raises:
            KeyError: a required key is missing. TypeError: a value is not a string (or
                ``None`` where that is allowed). ValueError: an id, status or time that does
                not parse.
        """
        exported_at = _text(record, "exported_at")
        return cls(
            accounting_entry_id=uuid.UUID(_required(record, "accounting_entry_id")),
            status=OutcomeStatus(_required(record, "status")),
            external_id=_text(record, "external_id"),
            external_url=_text(record, "external_url"),
            exported_at=None if exported_at is None else datetime.fromisoformat(exported_at),
            failure_reason=_text(record, "failure_reason"),
            failure_reason_type=_text(record, "failure_reason_type"),
        )


def _text(record: Mapping[str, object], key: str) -> str | None:
    """``record[key]`` as a string, or None when absent or null."""
    value = record.get(key)
    if value is None or isinstance(value, str):
        return value
    raise TypeError(f"{key} is a {type(value).__name__}, not a string")


def _required(record: Mapping[str, object], key: str) -> str:
    """``record[key]``, a string that must be there."""
    value = _text(record, key)
    if value is None:
        raise KeyError(key)
    return value


@dataclass(frozen=True, slots=True)
class JobRef:
    """The identity of an export job, without its wire model.

    Attributes:
        job_id: the export job.
        company_id: the company it belongs to (Pleo runs one job a company at a time), or
            ``None`` where the listing did not say.
        api_version: ``"v3"`` or ``"v2"``.
    """

    job_id: uuid.UUID
    company_id: uuid.UUID | None
    api_version: str
